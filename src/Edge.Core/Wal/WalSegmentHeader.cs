using System.Buffers.Binary;
using System.Numerics;

namespace CortexEdge.Core.Wal;

/// <summary>
/// The fixed header at the start of every segment file, checked when a segment is opened.
/// <code>
///  offset size field
///       0    8 magic "CEWALSEG"
///       8    4 format version (1)
///      12    4 header length (64): records start here
///      16    8 replica id
///      24    8 log epoch
///      32    8 first LSN (also the file name)
///      40    8 segment length in bytes (the preallocated file length)
///      48   12 reserved, zero
///      60    4 CRC32C of bytes 0..59
/// </code>
/// </summary>
internal readonly record struct WalSegmentHeader(ulong ReplicaId, ulong LogEpoch, long FirstLsn, long SegmentBytes)
{
    public const int HeaderBytes = 64;
    public const uint FormatVersion = 1;
    private const ulong Magic = 0x4745_534C_4157_4543; // "CEWALSEG" read as little endian
    private const int CrcOffset = 60;

    public void Encode(Span<byte> destination)
    {
        Span<byte> header = destination[..HeaderBytes];
        header.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], HeaderBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], ReplicaId);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], LogEpoch);
        BinaryPrimitives.WriteInt64LittleEndian(header[32..], FirstLsn);
        BinaryPrimitives.WriteInt64LittleEndian(header[40..], SegmentBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(header[CrcOffset..], ComputeCrc(header));
    }

    /// <summary>Decodes and checks a header; on failure <paramref name="problem"/> says what is wrong.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> source, out WalSegmentHeader header, out string problem)
    {
        header = default;
        if (source.Length < HeaderBytes)
        {
            problem = $"segment is {source.Length} bytes, shorter than its {HeaderBytes}-byte header";
            return false;
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(source) != Magic)
        {
            problem = "segment header has no WAL magic";
            return false;
        }

        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(source[CrcOffset..]);
        if (ComputeCrc(source) != crc)
        {
            problem = "segment header CRC mismatch";
            return false;
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(source[8..]);
        if (version != FormatVersion)
        {
            problem = $"segment format version {version} is not supported (expected {FormatVersion})";
            return false;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(source[12..]) != HeaderBytes)
        {
            problem = "segment header length is not 64";
            return false;
        }

        header = new WalSegmentHeader(
            BinaryPrimitives.ReadUInt64LittleEndian(source[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[40..]));
        if (header.FirstLsn < 1)
        {
            problem = $"segment header first LSN {header.FirstLsn} is not positive";
            return false;
        }

        problem = string.Empty;
        return true;
    }

    private static uint ComputeCrc(ReadOnlySpan<byte> header)
    {
        uint crc = ~0u;
        for (int i = 0; i < CrcOffset; i += 4)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt32LittleEndian(header[i..]));
        }

        return ~crc;
    }
}
