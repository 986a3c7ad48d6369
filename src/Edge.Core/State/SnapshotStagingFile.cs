namespace CortexEdge.Core.State;

/// <summary>
/// A snapshot being received in chunks, kept on disk so a transfer interrupted by a disconnect or a
/// restart resumes where it stopped. Chunks are accepted only at the current end (in order); the whole
/// is verified against the sender's checksum before it may be installed. Not thread-safe.
/// </summary>
public sealed class SnapshotStagingFile : IDisposable
{
    private readonly FileStream _file;
    private uint _checksum;

    private SnapshotStagingFile(string path, FileStream file, uint checksum)
    {
        Path = path;
        _file = file;
        _checksum = checksum;
    }

    /// <summary>The staging file's path.</summary>
    public string Path { get; }

    /// <summary>Bytes received so far (the offset the next chunk must start at).</summary>
    public long LengthBytes => _file.Length;

    /// <summary>CRC32C of what was received so far.</summary>
    public uint Checksum => _checksum;

    /// <summary>The staging path for snapshot <paramref name="snapshotId"/> of the database in <paramref name="databaseDirectory"/> (beside it, not inside).</summary>
    public static string PathFor(string databaseDirectory, ulong snapshotId) =>
        System.IO.Path.GetFullPath(databaseDirectory).TrimEnd('/') + $".snapshot-{snapshotId:x16}.part";

    /// <summary>Finds a staging file left beside <paramref name="databaseDirectory"/> by an interrupted transfer.</summary>
    public static bool TryFindExisting(string databaseDirectory, out ulong snapshotId)
    {
        snapshotId = 0;
        string full = System.IO.Path.GetFullPath(databaseDirectory).TrimEnd('/');
        string? parent = System.IO.Path.GetDirectoryName(full);
        string prefix = System.IO.Path.GetFileName(full) + ".snapshot-";
        if (parent is null || !System.IO.Directory.Exists(parent))
        {
            return false;
        }

        foreach (string file in System.IO.Directory.EnumerateFiles(parent, prefix + "*.part"))
        {
            string hex = System.IO.Path.GetFileName(file)[prefix.Length..^".part".Length];
            if (ulong.TryParse(hex, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out snapshotId) && snapshotId != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Opens (resuming) or creates the staging file; other snapshots' staging files beside the database are deleted.</summary>
    public static SnapshotStagingFile OpenOrCreate(string databaseDirectory, ulong snapshotId)
    {
        string path = PathFor(databaseDirectory, snapshotId);
        string? parent = System.IO.Path.GetDirectoryName(path);
        string prefix = System.IO.Path.GetFileName(System.IO.Path.GetFullPath(databaseDirectory).TrimEnd('/')) + ".snapshot-";
        if (parent is not null && System.IO.Directory.Exists(parent))
        {
            foreach (string stale in System.IO.Directory.EnumerateFiles(parent, prefix + "*.part"))
            {
                if (stale != path)
                {
                    File.Delete(stale);
                }
            }
        }

        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        try
        {
            uint checksum = 0;
            byte[] buffer = new byte[1 << 16];
            int read;
            while ((read = file.Read(buffer)) > 0)
            {
                checksum = DatabaseSnapshot.ComputeChecksum(buffer.AsSpan(0, read), checksum);
            }

            return new SnapshotStagingFile(path, file, checksum);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Appends <paramref name="chunk"/> when it starts at <see cref="LengthBytes"/>; returns false (nothing written) otherwise.</summary>
    public bool TryAppend(long offset, ReadOnlySpan<byte> chunk)
    {
        if (offset != _file.Length)
        {
            return false;
        }

        _file.Position = offset;
        _file.Write(chunk);
        _file.Flush(flushToDisk: true);
        _checksum = DatabaseSnapshot.ComputeChecksum(chunk, _checksum);
        return true;
    }

    /// <summary>Closes the file, keeping it for <see cref="EdgeDatabase.InstallSnapshot"/> or a later resume.</summary>
    public void Dispose() => _file.Dispose();

    /// <summary>Closes and deletes the staging file (a checksum mismatch, or a newer snapshot).</summary>
    public void Discard()
    {
        _file.Dispose();
        File.Delete(Path);
    }
}
