using System.Buffers.Binary;
using System.Numerics;

namespace CortexEdge.Core.State;

/// <summary>
/// A whole-state snapshot file made by <see cref="EdgeDatabase.CreateSnapshotAsync"/>: a consistent
/// SQLite copy at <see cref="Lsn"/>, read in chunks for transfer. Owns the file: disposing deletes it.
/// Not thread-safe.
/// </summary>
public sealed class DatabaseSnapshot : IDisposable
{
    private readonly FileStream _file;

    private DatabaseSnapshot(string path, FileStream file, long lsn, uint anchorCrc, bool anchored, uint checksum)
    {
        Path = path;
        _file = file;
        Lsn = lsn;
        AnchorCrc = anchorCrc;
        IsAnchored = anchored;
        Checksum = checksum;
    }

    /// <summary>The snapshot file.</summary>
    public string Path { get; }

    /// <summary>The last LSN whose effect the snapshot holds.</summary>
    public long Lsn { get; }

    /// <summary>CRC of the record at <see cref="Lsn"/> (0 when <see cref="Lsn"/> is 0).</summary>
    public uint AnchorCrc { get; }

    /// <summary>false when the record at <see cref="Lsn"/> was already trimmed, so <see cref="AnchorCrc"/> is unknown.</summary>
    public bool IsAnchored { get; }

    /// <summary>Length of the file in bytes.</summary>
    public long LengthBytes => _file.Length;

    /// <summary>CRC32C of the whole file (<see cref="ComputeChecksum(ReadOnlySpan{byte}, uint)"/> chained from 0).</summary>
    public uint Checksum { get; }

    internal static DatabaseSnapshot Create(string path, long lsn, uint anchorCrc, bool anchored)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            uint checksum = 0;
            byte[] buffer = new byte[1 << 16];
            int read;
            while ((read = file.Read(buffer)) > 0)
            {
                checksum = ComputeChecksum(buffer.AsSpan(0, read), checksum);
            }

            return new DatabaseSnapshot(path, file, lsn, anchorCrc, anchored, checksum);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads up to <paramref name="destination"/>.Length bytes at <paramref name="offset"/>; returns how many (0 at the end).</summary>
    public int Read(long offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        _file.Position = offset;
        return _file.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
    }

    /// <summary>Continues a CRC32C over <paramref name="data"/> from <paramref name="crc"/> (0 to start).</summary>
    public static uint ComputeChecksum(ReadOnlySpan<byte> data, uint crc) => Binary.Crc32C.Append(crc, data);

    /// <summary>Closes and deletes the snapshot file.</summary>
    public void Dispose()
    {
        _file.Dispose();
        File.Delete(Path);
    }
}
