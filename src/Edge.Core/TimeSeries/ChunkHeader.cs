using CortexEdge.Core.Binary;
using System.Buffers.Binary;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// The fixed 84-byte header in front of every chunk: which series, the time range, and summary
/// statistics that let a downsample use a chunk without decoding it when the chunk lies inside one
/// bucket. Little-endian layout (format version 1):
/// <code>
///  0 u8  format version (1)     1 u8 value encoding (0 XOR, 1 decimal deltas, 2 decimal deltas of deltas)
///  2 u8  decimal digits (0..9; 0 with XOR)     3 u8 reserved (0)
///  4 u32 count                  8 u32 NaN count   12 u32 payload bytes
/// 16 i64 series id             24 i64 first timestamp (ms)   32 i64 last timestamp (ms)
/// 40 f64 first value           48 f64 last value
/// 56 f64 min                   64 f64 max         72 f64 sum
/// 80 u32 CRC-32C of bytes 0..79 followed by the payload
/// </code>
/// Min, max and sum cover the non-NaN values (sum added in timestamp order from 0.0); with no
/// such value min and max are NaN and sum is 0.
/// </summary>
public readonly record struct ChunkHeader
{
    /// <summary>Size of the header in bytes.</summary>
    public const int Size = 84;

    /// <summary>The format version this code writes and reads.</summary>
    public const byte CurrentFormatVersion = 1;

    private const int CrcOffset = 80;

    /// <summary>
    /// -1 when values are XOR-encoded doubles; 0..9 when every value is an integer divided by
    /// 10^digits and the payload stores the integer deltas.
    /// </summary>
    public int DecimalDigits { get; init; }

    /// <summary>With decimal values: the payload stores the change of each integer delta (steady rates) rather than the delta.</summary>
    public bool DecimalDeltaOfDelta { get; init; }

    /// <summary>The series the chunk belongs to (the store's numeric id).</summary>
    public long SeriesId { get; init; }

    /// <summary>Number of readings, at least 1.</summary>
    public int Count { get; init; }

    /// <summary>Number of readings whose value is NaN (kept, but left out of min, max, sum and average).</summary>
    public int NanCount { get; init; }

    /// <summary>Bytes of encoded readings after the header.</summary>
    public int PayloadBytes { get; init; }

    /// <summary>Timestamp of the earliest reading, ms since the Unix epoch.</summary>
    public long FirstTimestamp { get; init; }

    /// <summary>Timestamp of the latest reading, ms since the Unix epoch.</summary>
    public long LastTimestamp { get; init; }

    /// <summary>Value of the earliest reading (bit-exact).</summary>
    public double FirstValue { get; init; }

    /// <summary>Value of the latest reading (bit-exact).</summary>
    public double LastValue { get; init; }

    /// <summary>Smallest non-NaN value, or NaN when every value is NaN.</summary>
    public double Min { get; init; }

    /// <summary>Largest non-NaN value, or NaN when every value is NaN.</summary>
    public double Max { get; init; }

    /// <summary>Sum of the non-NaN values in timestamp order.</summary>
    public double Sum { get; init; }

    /// <summary>CRC-32C of header bytes 0..79 and the payload.</summary>
    public uint Crc { get; init; }

    /// <summary>Total chunk size (header and payload) in bytes.</summary>
    public int TotalBytes => Size + PayloadBytes;

    /// <summary>Writes the header (with <see cref="Crc"/> as given) into the first <see cref="Size"/> bytes.</summary>
    internal void WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        destination[0] = CurrentFormatVersion;
        destination[1] = DecimalDigits < 0 ? (byte)0 : DecimalDeltaOfDelta ? (byte)2 : (byte)1;
        destination[2] = DecimalDigits >= 0 ? (byte)DecimalDigits : (byte)0;
        destination[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)Count);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)NanCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)PayloadBytes);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], SeriesId);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], FirstTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(destination[32..], LastTimestamp);
        BinaryPrimitives.WriteDoubleLittleEndian(destination[40..], FirstValue);
        BinaryPrimitives.WriteDoubleLittleEndian(destination[48..], LastValue);
        BinaryPrimitives.WriteDoubleLittleEndian(destination[56..], Min);
        BinaryPrimitives.WriteDoubleLittleEndian(destination[64..], Max);
        BinaryPrimitives.WriteDoubleLittleEndian(destination[72..], Sum);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[CrcOffset..], Crc);
    }

    /// <summary>Computes the CRC of a whole chunk (header bytes 0..79 and the payload).</summary>
    internal static uint ComputeCrc(ReadOnlySpan<byte> chunk) =>
        Crc32C.Append(Crc32C.Append(0, chunk[..CrcOffset]), chunk[Size..]);

    /// <summary>
    /// Reads and checks a chunk's header: length, version, flags, counts, time order, payload size
    /// bound, and the CRC over the whole chunk. Does not decode the payload.
    /// </summary>
    /// <param name="chunk">The whole chunk (header and payload) exactly.</param>
    /// <param name="location">Where the chunk came from, for the error message (e.g. "series 7 chunk 42").</param>
    /// <exception cref="EdgeCorruptionException"><see cref="EdgeErrorCode.ChunkMalformed"/> when any check fails.</exception>
    public static ChunkHeader Read(ReadOnlySpan<byte> chunk, string location = "chunk")
    {
        ChunkHeader header = ReadFields(chunk, chunk.Length, location);
        uint actualCrc = ComputeCrc(chunk);
        if (header.Crc != actualCrc)
        {
            throw Malformed(location, CrcOffset, $"CRC-32C 0x{actualCrc:X8} does not match the stored 0x{header.Crc:X8}");
        }

        return header;
    }

    /// <summary>
    /// Reads and checks the header fields of a chunk of <paramref name="chunkLength"/> bytes from
    /// its first <see cref="Size"/> bytes, without the CRC (which needs the payload): used to index
    /// stored chunks without loading them. The CRC is checked when the chunk itself is read.
    /// </summary>
    /// <exception cref="EdgeCorruptionException"><see cref="EdgeErrorCode.ChunkMalformed"/> when a field check fails.</exception>
    internal static ChunkHeader ReadFields(ReadOnlySpan<byte> chunk, int chunkLength, string location)
    {
        if (chunk.Length < Size || chunkLength < Size)
        {
            throw Malformed(location, 0, $"{Math.Min(chunk.Length, chunkLength)} bytes is shorter than the {Size}-byte chunk header");
        }

        if (chunk[0] != CurrentFormatVersion)
        {
            throw Malformed(location, 0, $"format version {chunk[0]} is not {CurrentFormatVersion}");
        }

        if (chunk[1] > 2 || chunk[3] != 0 || (chunk[1] == 0 ? chunk[2] != 0 : chunk[2] > DecimalScale.DigitsMax))
        {
            throw Malformed(location, 1, $"value encoding {chunk[1]} with {chunk[2]} digits and reserved byte {chunk[3]} is not a known combination");
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
        uint nanCount = BinaryPrimitives.ReadUInt32LittleEndian(chunk[8..]);
        uint payloadBytes = BinaryPrimitives.ReadUInt32LittleEndian(chunk[12..]);
        if (count is 0 or > TimeSeriesLimits.ChunkReadingsMax)
        {
            throw Malformed(location, 4, $"count {count} is outside 1..{TimeSeriesLimits.ChunkReadingsMax}");
        }

        if (nanCount > count)
        {
            throw Malformed(location, 8, $"NaN count {nanCount} exceeds count {count}");
        }

        if (payloadBytes != chunkLength - Size)
        {
            throw Malformed(location, 12, $"payload length {payloadBytes} does not match the {chunkLength - Size} bytes after the header");
        }

        if (payloadBytes > GorillaEncoder.MaxPayloadBytes((int)count))
        {
            throw Malformed(location, 12, $"payload length {payloadBytes} exceeds the bound {GorillaEncoder.MaxPayloadBytes((int)count)} for {count} readings");
        }

        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(chunk[CrcOffset..]);
        var header = new ChunkHeader
        {
            DecimalDigits = chunk[1] == 0 ? -1 : chunk[2],
            DecimalDeltaOfDelta = chunk[1] == 2,
            Count = (int)count,
            NanCount = (int)nanCount,
            PayloadBytes = (int)payloadBytes,
            SeriesId = BinaryPrimitives.ReadInt64LittleEndian(chunk[16..]),
            FirstTimestamp = BinaryPrimitives.ReadInt64LittleEndian(chunk[24..]),
            LastTimestamp = BinaryPrimitives.ReadInt64LittleEndian(chunk[32..]),
            FirstValue = BinaryPrimitives.ReadDoubleLittleEndian(chunk[40..]),
            LastValue = BinaryPrimitives.ReadDoubleLittleEndian(chunk[48..]),
            Min = BinaryPrimitives.ReadDoubleLittleEndian(chunk[56..]),
            Max = BinaryPrimitives.ReadDoubleLittleEndian(chunk[64..]),
            Sum = BinaryPrimitives.ReadDoubleLittleEndian(chunk[72..]),
            Crc = storedCrc,
        };

        if (header.FirstTimestamp is < TimeSeriesLimits.TimestampMin or > TimeSeriesLimits.TimestampMax
            || header.LastTimestamp is < TimeSeriesLimits.TimestampMin or > TimeSeriesLimits.TimestampMax)
        {
            throw Malformed(location, 24, $"time range [{header.FirstTimestamp}, {header.LastTimestamp}] leaves the allowed timestamp range");
        }

        if (count == 1 ? header.FirstTimestamp != header.LastTimestamp || payloadBytes != 0 : header.FirstTimestamp >= header.LastTimestamp)
        {
            throw Malformed(location, 24, $"time range [{header.FirstTimestamp}, {header.LastTimestamp}] does not fit {count} readings with {payloadBytes} payload bytes");
        }

        return header;
    }

    internal static EdgeCorruptionException Malformed(string location, long offset, string message) =>
        new(EdgeErrorCode.ChunkMalformed, $"{location} offset {offset}", message);
}
