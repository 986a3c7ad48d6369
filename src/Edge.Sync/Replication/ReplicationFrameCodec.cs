using System.Buffers.Binary;
using System.Text;
using CortexEdge.Core.Compression;
using CortexEdge.Core.State;

namespace CortexEdge.Sync.Replication;

/// <summary>
/// The pure codec for replication frames (format version 1). Thread-safe (stateless).
/// <code>
///  offset size field
///       0    2 magic "CR"
///       2    1 format version (1)
///       3    1 type (<see cref="ReplicationFrameType"/>)
///       4    1 flags (bit 0: batch records LZ4-compressed)
///       5    3 reserved, zero
///       8    8 epoch
///      16    4 body length n
///      20    n body (per type, little endian)
///    20+n    4 CRC32C of bytes 0..20+n
/// </code>
/// Batch body: leader last LSN 8, leader time ms 8, prev LSN 8, prev CRC 4, record count 4, raw length 4, records (raw or LZ4).
/// Status body: last LSN 8, last CRC 4, durable LSN 8, snapshot id 8, snapshot offset 8, halted 1, name length 1, name.
/// Snapshot body: id 8, LSN 8, anchor CRC 4, total bytes 8, checksum 4, offset 8, leader last LSN 8, data (rest).
/// </summary>
public static class ReplicationFrameCodec
{
    /// <summary>The format version this build writes and reads.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Largest encoded frame accepted, in bytes (below common broker packet limits).</summary>
    public const int FrameBytesMax = 4 << 20;

    /// <summary>Largest uncompressed record payload of one batch, in bytes.</summary>
    public const int BatchRawBytesMax = 4 << 20;

    /// <summary>Longest replica name, in UTF-8 bytes.</summary>
    public const int ReplicaNameBytesMax = 64;

    private const int HeaderBytes = 20;
    private const int TrailerBytes = 4;
    private const byte FlagCompressed = 1;
    private const int BatchFixedBytes = 8 + 8 + 8 + 4 + 4 + 4;
    private const int StatusFixedBytes = 8 + 4 + 8 + 8 + 8 + 1 + 1;
    private const int SnapshotFixedBytes = 8 + 8 + 4 + 8 + 4 + 8 + 8;
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>Encodes <paramref name="frame"/>; batch records are LZ4-compressed when that makes them smaller.</summary>
    /// <exception cref="ReplicationException"><see cref="ReplicationErrorCode.FrameMalformed"/> when a field is out of range or a limit is passed.</exception>
    public static byte[] Encode(ReplicationFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        switch (frame)
        {
            case WalBatchFrame batch:
                return EncodeBatch(batch);
            case ReplicaStatusFrame status:
            {
                byte[] name = Encoding.UTF8.GetBytes(status.ReplicaName);
                Require(name.Length is > 0 and <= ReplicaNameBytesMax, $"replica name is {name.Length} bytes; 1..{ReplicaNameBytesMax} allowed");
                Require(status.LastLsn >= 0 && status.DurableLsn >= 0 && status.SnapshotOffset >= 0, "negative position in status");
                byte[] buffer = new byte[HeaderBytes + StatusFixedBytes + name.Length + TrailerBytes];
                Span<byte> body = buffer.AsSpan(HeaderBytes);
                BinaryPrimitives.WriteInt64LittleEndian(body, status.LastLsn);
                BinaryPrimitives.WriteUInt32LittleEndian(body[8..], status.LastCrc);
                BinaryPrimitives.WriteInt64LittleEndian(body[12..], status.DurableLsn);
                BinaryPrimitives.WriteUInt64LittleEndian(body[20..], status.SnapshotId);
                BinaryPrimitives.WriteInt64LittleEndian(body[28..], status.SnapshotOffset);
                body[36] = status.Halted ? (byte)1 : (byte)0;
                body[37] = (byte)name.Length;
                name.CopyTo(body[38..]);
                return Seal(buffer, ReplicationFrameType.Status, 0, status.Epoch);
            }

            case SnapshotChunkFrame chunk:
            {
                Require(chunk.SnapshotLsn >= 0 && chunk.TotalBytes >= 0 && chunk.Offset >= 0 && chunk.LeaderLastLsn >= 0, "negative field in snapshot chunk");
                Require(chunk.Offset + chunk.Data.Length <= chunk.TotalBytes, "snapshot chunk runs past the snapshot's length");
                Require(HeaderBytes + SnapshotFixedBytes + chunk.Data.Length + TrailerBytes <= FrameBytesMax, $"snapshot chunk of {chunk.Data.Length} bytes passes the {FrameBytesMax}-byte frame limit");
                byte[] buffer = new byte[HeaderBytes + SnapshotFixedBytes + chunk.Data.Length + TrailerBytes];
                Span<byte> body = buffer.AsSpan(HeaderBytes);
                BinaryPrimitives.WriteUInt64LittleEndian(body, chunk.SnapshotId);
                BinaryPrimitives.WriteInt64LittleEndian(body[8..], chunk.SnapshotLsn);
                BinaryPrimitives.WriteUInt32LittleEndian(body[16..], chunk.AnchorCrc);
                BinaryPrimitives.WriteInt64LittleEndian(body[20..], chunk.TotalBytes);
                BinaryPrimitives.WriteUInt32LittleEndian(body[28..], chunk.Checksum);
                BinaryPrimitives.WriteInt64LittleEndian(body[32..], chunk.Offset);
                BinaryPrimitives.WriteInt64LittleEndian(body[40..], chunk.LeaderLastLsn);
                chunk.Data.Span.CopyTo(body[SnapshotFixedBytes..]);
                return Seal(buffer, ReplicationFrameType.SnapshotChunk, 0, chunk.Epoch);
            }

            default:
                throw new ArgumentException($"unknown frame type {frame.GetType().Name}", nameof(frame));
        }
    }

    private static byte[] EncodeBatch(WalBatchFrame batch)
    {
        Require(batch.PrevLsn >= 0 && batch.LeaderLastLsn >= 0 && batch.RecordCount >= 0, "negative field in batch");
        Require(batch.Records.Length <= BatchRawBytesMax, $"batch of {batch.Records.Length} bytes passes the {BatchRawBytesMax}-byte limit");
        Require(batch.RecordCount > 0 || batch.Records.Length == 0, "a batch without records carries bytes");
        ReadOnlySpan<byte> raw = batch.Records.Span;
        byte[]? compressed = null;
        int compressedLength = 0;
        if (raw.Length >= 64)
        {
            compressed = new byte[Lz4.MaxCompressedLength(raw.Length)];
            compressedLength = Lz4.Compress(raw, compressed);
        }

        bool useCompressed = compressed is not null && compressedLength < raw.Length;
        ReadOnlySpan<byte> stored = useCompressed ? compressed.AsSpan(0, compressedLength) : raw;
        Require(HeaderBytes + BatchFixedBytes + stored.Length + TrailerBytes <= FrameBytesMax, "batch passes the frame limit");
        byte[] buffer = new byte[HeaderBytes + BatchFixedBytes + stored.Length + TrailerBytes];
        Span<byte> body = buffer.AsSpan(HeaderBytes);
        BinaryPrimitives.WriteInt64LittleEndian(body, batch.LeaderLastLsn);
        BinaryPrimitives.WriteInt64LittleEndian(body[8..], batch.LeaderTimeMs);
        BinaryPrimitives.WriteInt64LittleEndian(body[16..], batch.PrevLsn);
        BinaryPrimitives.WriteUInt32LittleEndian(body[24..], batch.PrevCrc);
        BinaryPrimitives.WriteInt32LittleEndian(body[28..], batch.RecordCount);
        BinaryPrimitives.WriteInt32LittleEndian(body[32..], raw.Length);
        stored.CopyTo(body[BatchFixedBytes..]);
        return Seal(buffer, ReplicationFrameType.Batch, useCompressed ? FlagCompressed : (byte)0, batch.Epoch);
    }

    private static byte[] Seal(byte[] buffer, ReplicationFrameType type, byte flags, ulong epoch)
    {
        buffer[0] = (byte)'C';
        buffer[1] = (byte)'R';
        buffer[2] = FormatVersion;
        buffer[3] = (byte)type;
        buffer[4] = flags;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(8), epoch);
        int bodyLength = buffer.Length - HeaderBytes - TrailerBytes;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(16), bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(buffer.Length - TrailerBytes), DatabaseSnapshot.ComputeChecksum(buffer.AsSpan(0, buffer.Length - TrailerBytes), 0));
        return buffer;
    }

    /// <summary>Decodes one frame. Never reads past <paramref name="source"/>; never throws for bad input.</summary>
    /// <returns>false with <paramref name="error"/> (code and message naming the field and limit) when the frame is invalid.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> source, out ReplicationFrame? frame, out ReplicationException? error)
    {
        frame = null;
        error = null;
        string? problem = TryDecodeCore(source, out frame, out bool versionProblem);
        if (problem is null)
        {
            return true;
        }

        error = new ReplicationException(versionProblem ? ReplicationErrorCode.FrameVersionUnsupported : ReplicationErrorCode.FrameMalformed, $"replication frame ({source.Length} bytes) rejected: {problem}");
        frame = null;
        return false;
    }

    /// <summary>Decodes one frame.</summary>
    /// <exception cref="ReplicationException"><see cref="ReplicationErrorCode.FrameMalformed"/> or <see cref="ReplicationErrorCode.FrameVersionUnsupported"/>.</exception>
    public static ReplicationFrame Decode(ReadOnlySpan<byte> source) =>
        TryDecode(source, out ReplicationFrame? frame, out ReplicationException? error) ? frame! : throw error!;

    private static string? TryDecodeCore(ReadOnlySpan<byte> source, out ReplicationFrame? frame, out bool versionProblem)
    {
        frame = null;
        versionProblem = false;
        if (source.Length < HeaderBytes + TrailerBytes)
        {
            return $"shorter than the {HeaderBytes + TrailerBytes}-byte minimum";
        }

        if (source.Length > FrameBytesMax)
        {
            return $"longer than the {FrameBytesMax}-byte limit";
        }

        if (source[0] != (byte)'C' || source[1] != (byte)'R')
        {
            return "no 'CR' magic at offset 0";
        }

        if (source[2] != FormatVersion)
        {
            versionProblem = true;
            return $"format version {source[2]} at offset 2 is not supported (this build reads {FormatVersion})";
        }

        int bodyLength = BinaryPrimitives.ReadInt32LittleEndian(source[16..]);
        if (bodyLength < 0 || bodyLength != source.Length - HeaderBytes - TrailerBytes)
        {
            return $"body length {bodyLength} at offset 16 does not match the frame length";
        }

        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(source[^TrailerBytes..]);
        if (DatabaseSnapshot.ComputeChecksum(source[..^TrailerBytes], 0) != crc)
        {
            return "CRC32C mismatch";
        }

        var type = (ReplicationFrameType)source[3];
        byte flags = source[4];
        if (source[5] != 0 || source[6] != 0 || source[7] != 0)
        {
            return "reserved bytes 5..7 are not zero";
        }

        ulong epoch = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        ReadOnlySpan<byte> body = source.Slice(HeaderBytes, bodyLength);
        if (flags != 0 && (type != ReplicationFrameType.Batch || flags != FlagCompressed))
        {
            return $"flags 0x{flags:x2} are not valid for a {type} frame";
        }

        switch (type)
        {
            case ReplicationFrameType.Batch:
                return DecodeBatch(body, epoch, flags == FlagCompressed, out frame);
            case ReplicationFrameType.Status:
            {
                if (body.Length < StatusFixedBytes)
                {
                    return "status body too short";
                }

                int nameLength = body[37];
                if (nameLength is 0 or > ReplicaNameBytesMax || body.Length != StatusFixedBytes + nameLength)
                {
                    return $"status name length {nameLength} is invalid or does not match the body";
                }

                long lastLsn = BinaryPrimitives.ReadInt64LittleEndian(body);
                long durableLsn = BinaryPrimitives.ReadInt64LittleEndian(body[12..]);
                long snapshotOffset = BinaryPrimitives.ReadInt64LittleEndian(body[28..]);
                if (lastLsn < 0 || durableLsn < 0 || snapshotOffset < 0)
                {
                    return "negative position in status";
                }

                if (body[36] > 1)
                {
                    return "halted flag is not 0 or 1";
                }

                string name;
                try
                {
                    name = StrictUtf8.GetString(body.Slice(StatusFixedBytes, nameLength));
                }
                catch (DecoderFallbackException)
                {
                    return "replica name is not valid UTF-8";
                }

                frame = new ReplicaStatusFrame(epoch, name, lastLsn, BinaryPrimitives.ReadUInt32LittleEndian(body[8..]), durableLsn,
                    BinaryPrimitives.ReadUInt64LittleEndian(body[20..]), snapshotOffset, body[36] == 1);
                return null;
            }

            case ReplicationFrameType.SnapshotChunk:
            {
                if (body.Length < SnapshotFixedBytes)
                {
                    return "snapshot chunk body too short";
                }

                long lsn = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
                long total = BinaryPrimitives.ReadInt64LittleEndian(body[20..]);
                long offset = BinaryPrimitives.ReadInt64LittleEndian(body[32..]);
                long leaderLast = BinaryPrimitives.ReadInt64LittleEndian(body[40..]);
                int dataLength = body.Length - SnapshotFixedBytes;
                if (lsn < 0 || total < 0 || offset < 0 || leaderLast < 0 || offset > total - dataLength)
                {
                    return $"snapshot chunk offset {offset} + {dataLength} bytes does not fit its total of {total} bytes (or a field is negative)";
                }

                frame = new SnapshotChunkFrame(epoch, BinaryPrimitives.ReadUInt64LittleEndian(body), lsn, BinaryPrimitives.ReadUInt32LittleEndian(body[16..]),
                    total, BinaryPrimitives.ReadUInt32LittleEndian(body[28..]), offset, leaderLast, body[SnapshotFixedBytes..].ToArray());
                return null;
            }

            default:
                return $"unknown frame type {(byte)type} at offset 3";
        }
    }

    private static string? DecodeBatch(ReadOnlySpan<byte> body, ulong epoch, bool compressed, out ReplicationFrame? frame)
    {
        frame = null;
        if (body.Length < BatchFixedBytes)
        {
            return "batch body too short";
        }

        long leaderLast = BinaryPrimitives.ReadInt64LittleEndian(body);
        long timeMs = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
        long prevLsn = BinaryPrimitives.ReadInt64LittleEndian(body[16..]);
        uint prevCrc = BinaryPrimitives.ReadUInt32LittleEndian(body[24..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(body[28..]);
        int rawLength = BinaryPrimitives.ReadInt32LittleEndian(body[32..]);
        if (leaderLast < 0 || prevLsn < 0 || count < 0)
        {
            return "negative field in batch";
        }

        if (rawLength < 0 || rawLength > BatchRawBytesMax)
        {
            return $"batch raw length {rawLength} outside 0..{BatchRawBytesMax}";
        }

        if ((count == 0) != (rawLength == 0) || (long)count * 24 > rawLength)
        {
            return $"batch of {count} records cannot be {rawLength} bytes";
        }

        ReadOnlySpan<byte> stored = body[BatchFixedBytes..];
        byte[] records;
        if (compressed)
        {
            records = new byte[rawLength];
            if (!Lz4.TryDecompress(stored, records, out int written) || written != rawLength)
            {
                return $"LZ4 records do not decompress to the announced {rawLength} bytes";
            }
        }
        else
        {
            if (stored.Length != rawLength)
            {
                return $"uncompressed records are {stored.Length} bytes, not the announced {rawLength}";
            }

            records = stored.ToArray();
        }

        frame = new WalBatchFrame(epoch, leaderLast, timeMs, prevLsn, prevCrc, count, records);
        return null;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ReplicationException(ReplicationErrorCode.FrameMalformed, $"cannot encode replication frame: {message}");
        }
    }
}
