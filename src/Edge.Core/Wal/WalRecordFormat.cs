using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace CortexEdge.Core.Wal;

/// <summary>
/// The byte layout of one WAL record, and the single place its invariant is written and enforced:
/// <see cref="Encode"/> checks every record right after writing it, <see cref="Check"/> right
/// after reading it (recovery, verify, readers).
/// <code>
///  offset size field
///       0    4 payload length (bytes, little endian)
///       4    4 CRC32C (Castagnoli) of every record byte except these four, padding included
///       8    8 LSN (dense: previous record's LSN + 1)
///      16    1 kind (<see cref="WalRecordKind"/>, never None)
///      17    3 reserved, zero
///      20    n payload
///    20+n    p zero padding to the next multiple of 8
/// </code>
/// A slot of preallocated, never-written space reads as all zeros, which is never a valid record
/// (kind None), so the end of the log needs no marker.
/// </summary>
internal static class WalRecordFormat
{
    public const int Alignment = 8;
    public const int HeaderBytes = 20;
    private const int LengthOffset = 0;
    private const int CrcOffset = 4;
    private const int LsnOffset = 8;
    private const int KindOffset = 16;
    private const int ReservedOffset = 17;

    /// <summary>Bytes a record with <paramref name="payloadLength"/> bytes of payload takes, padding included.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long EncodedLength(long payloadLength) => (HeaderBytes + payloadLength + (Alignment - 1)) & ~(long)(Alignment - 1);

    /// <summary>
    /// Writes a record into <paramref name="destination"/> (exactly <see cref="EncodedLength"/> bytes)
    /// and checks it. Returns its CRC.
    /// </summary>
    public static uint Encode(Span<byte> destination, long lsn, WalRecordKind kind, ReadOnlySpan<byte> payload)
    {
        int encodedLength = (int)EncodedLength(payload.Length);
        Span<byte> record = destination[..encodedLength];
        BinaryPrimitives.WriteUInt32LittleEndian(record[LengthOffset..], (uint)payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(record[LsnOffset..], lsn);
        record[KindOffset] = (byte)kind;
        record.Slice(ReservedOffset, HeaderBytes - ReservedOffset).Clear();
        payload.CopyTo(record[HeaderBytes..]);
        record[(HeaderBytes + payload.Length)..].Clear();
        uint crc = ComputeCrc(record);
        BinaryPrimitives.WriteUInt32LittleEndian(record[CrcOffset..], crc);

        // Check before the record becomes visible: what we publish must pass the reader's check.
        WalRecordStatus status = Check(record, lsn, out _);
        if (status != WalRecordStatus.Valid)
        {
            throw new InvalidOperationException($"WAL record LSN {lsn} failed its own check after encoding: {status}");
        }

        return crc;
    }

    /// <summary>
    /// Checks the record at the start of <paramref name="source"/> (which extends to the end of the
    /// segment): header readable, kind known-nonzero, reserved bytes zero, length within the segment,
    /// LSN equal to <paramref name="expectedLsn"/> (or any positive LSN when it is 0), CRC matching.
    /// </summary>
    public static WalRecordStatus Check(ReadOnlySpan<byte> source, long expectedLsn, out WalRecordHeader header)
    {
        header = default;
        if (source.Length < HeaderBytes)
        {
            return source.ContainsAnyExcept((byte)0) ? WalRecordStatus.Truncated : WalRecordStatus.Empty;
        }

        uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(source[LengthOffset..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(source[CrcOffset..]);
        long lsn = BinaryPrimitives.ReadInt64LittleEndian(source[LsnOffset..]);
        var kind = (WalRecordKind)source[KindOffset];
        if (kind == WalRecordKind.None)
        {
            return source[..HeaderBytes].ContainsAnyExcept((byte)0) ? WalRecordStatus.BadKind : WalRecordStatus.Empty;
        }

        if (source.Slice(ReservedOffset, HeaderBytes - ReservedOffset).ContainsAnyExcept((byte)0))
        {
            return WalRecordStatus.BadReserved;
        }

        long encodedLength = EncodedLength(payloadLength);
        if (encodedLength > source.Length)
        {
            return WalRecordStatus.BadLength;
        }

        if (expectedLsn != 0 ? lsn != expectedLsn : lsn <= 0)
        {
            return WalRecordStatus.BadLsn;
        }

        ReadOnlySpan<byte> record = source[..(int)encodedLength];
        if (ComputeCrc(record) != crc)
        {
            return WalRecordStatus.BadCrc;
        }

        header = new WalRecordHeader(lsn, kind, (int)payloadLength, (int)encodedLength, crc);
        return WalRecordStatus.Valid;
    }

    /// <summary>CRC32C of a whole encoded record (length a multiple of 8), skipping the CRC field.</summary>
    public static uint ComputeCrc(ReadOnlySpan<byte> record)
    {
        uint crc = ~0u;
        crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt32LittleEndian(record));
        ReadOnlySpan<byte> rest = record[LsnOffset..];
        while (rest.Length >= 32)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(rest));
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(rest[8..]));
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(rest[16..]));
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(rest[24..]));
            rest = rest[32..];
        }

        while (rest.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(rest));
            rest = rest[8..];
        }

        return ~crc;
    }
}

/// <summary>The fields of a record that passed <see cref="WalRecordFormat.Check"/>.</summary>
internal readonly record struct WalRecordHeader(long Lsn, WalRecordKind Kind, int PayloadLength, int EncodedLength, uint Crc);

/// <summary>Outcome of <see cref="WalRecordFormat.Check"/>.</summary>
internal enum WalRecordStatus
{
    /// <summary>A complete record that passed every check.</summary>
    Valid,

    /// <summary>All zeros: never-written space, the end of the records.</summary>
    Empty,

    /// <summary>Fewer bytes left than a header, and they are not all zero.</summary>
    Truncated,

    /// <summary>Nonzero header with kind None.</summary>
    BadKind,

    /// <summary>Reserved header bytes are not zero.</summary>
    BadReserved,

    /// <summary>The length runs past the end of the segment.</summary>
    BadLength,

    /// <summary>The LSN is not the next one.</summary>
    BadLsn,

    /// <summary>The CRC does not match.</summary>
    BadCrc,
}
