using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Unicode;
using CortexEdge.Core.Compression;

namespace CortexEdge.Sync.Protocol;

/// <summary>
/// The sync wire format: a pure codec between <see cref="SyncFrame"/>s and bytes, with no I/O.
/// <para>
/// Layout (little-endian): magic "CESY" (u32), protocol version (u8), frame type (u8), flags (u8),
/// reserved (u8, 0), sender replica id (u64), stored body length (u32), raw body length (u32),
/// fleet (u8 length + UTF-8), node (u8 length + UTF-8), body (an LZ4 block when
/// <see cref="SyncFrameFlags.Compressed"/>), CRC32C of everything before it (u32).
/// The version is checked right after the magic, before any other field is trusted, so a frame
/// from a newer protocol is refused with <see cref="SyncProtocolErrorCode.UnsupportedVersion"/>
/// rather than misread. Bodies are documented in docs/sync.md.
/// </para>
/// Thread-safe: every method is static and keeps no state.
/// </summary>
public static class SyncFrameCodec
{
    /// <summary>The protocol version this build writes and the highest it reads.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>"CESY" read as a little-endian u32.</summary>
    public const uint Magic = 0x5953_4543;

    /// <summary>Longest fleet or node name in UTF-8 bytes.</summary>
    public const int NameBytesMax = 64;

    /// <summary>Longest error text in UTF-8 bytes; longer texts are cut when encoded.</summary>
    public const int ErrorTextBytesMax = 1024;

    /// <summary>Bytes of the fixed header part (magic to raw length).</summary>
    public const int FixedHeaderBytes = 24;

    /// <summary>
    /// Upper bound of everything in a frame that is not op payload: header with the longest names,
    /// checksum, a batch prefix and one op's own fields. Used to check limits are coherent.
    /// </summary>
    public const int FrameOverheadBytesMax = FixedHeaderBytes + 2 + (2 * NameBytesMax) + 4 + BatchPrefixBytesMax + DownloadOpFixedBytesMax;

    /// <summary>Upper bound of a batch body's fields before its ops.</summary>
    internal const int BatchPrefixBytesMax = 8 + (5 * 10);

    /// <summary>Upper bound of a download op's own fields besides its payload.</summary>
    internal const int DownloadOpFixedBytesMax = 10 + 8 + 10 + 8 + 1 + 10;

    // Below this a body is sent as is: LZ4 gains nothing on a few dozen bytes.
    private const int CompressBodyBytesMin = 128;

    /// <summary>Bytes of the header and checksum for a frame with these names.</summary>
    /// <exception cref="SyncProtocolException">A name is invalid (<see cref="SyncProtocolErrorCode.InvalidName"/>).</exception>
    public static int HeaderAndChecksumBytes(string fleet, string node) =>
        FixedHeaderBytes + 2 + NameByteCount(fleet, nameof(fleet)) + NameByteCount(node, nameof(node)) + 4;

    /// <summary>Bytes an op adds to an upload batch body (before compression).</summary>
    public static int UploadOpBytes(in SyncOp op) => 8 + 1 + FrameBodyWriter.VarintLength((ulong)op.Payload.Length) + op.Payload.Length;

    /// <summary>Bytes an op adds to a download batch body (before compression), <paramref name="previousLsn"/> being the LSN before it.</summary>
    public static int DownloadOpBytes(in SyncOp op, long previousLsn) =>
        FrameBodyWriter.VarintLength((ulong)(op.Lsn - previousLsn)) + 8 + FrameBodyWriter.VarintLength((ulong)op.Seq) + 8 + 1 +
        FrameBodyWriter.VarintLength((ulong)op.Payload.Length) + op.Payload.Length;

    /// <summary>
    /// Checks that <paramref name="name"/> can be a fleet or node name: 1..<see cref="NameBytesMax"/>
    /// UTF-8 bytes, none of the MQTT topic characters '/', '+', '#', no control characters and
    /// nothing outside the Basic Multilingual Plane (no surrogates), so a name round-trips exactly.
    /// </summary>
    public static bool IsValidName([NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name) || Encoding.UTF8.GetByteCount(name) > NameBytesMax)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is '/' or '+' or '#' || char.IsControl(c) || char.IsSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Encodes a frame into a new array.</summary>
    /// <exception cref="SyncProtocolException">The frame breaks the format (invalid name, ops out of sequence, an op over the limit, a frame over <paramref name="limits"/>' size).</exception>
    public static byte[] Encode(SyncFrame frame, SyncFrameLimits? limits = null)
    {
        var writer = new ArrayBufferWriter<byte>(512);
        Encode(frame, writer, limits);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a frame into <paramref name="destination"/>; returns the number of bytes written.</summary>
    /// <exception cref="SyncProtocolException">As for <see cref="Encode(SyncFrame, SyncFrameLimits?)"/>.</exception>
    public static int Encode(SyncFrame frame, IBufferWriter<byte> destination, SyncFrameLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(destination);
        limits ??= SyncFrameLimits.Default;
        int fleetBytes = NameByteCount(frame.Fleet, nameof(frame.Fleet));
        int nodeBytes = NameByteCount(frame.Node, nameof(frame.Node));

        using var body = new FrameBodyWriter(1024);
        WriteBody(frame, body, limits);
        ReadOnlySpan<byte> raw = body.Written;
        if (raw.Length > limits.RawBodyBytesMax)
        {
            SyncProtocolException.Throw(SyncProtocolErrorCode.FrameTooLarge, $"{frame.Type} body of {raw.Length} bytes exceeds RawBodyBytesMax {limits.RawBodyBytesMax}.");
        }

        SyncFrameFlags flags = frame.IsLast ? SyncFrameFlags.Last : SyncFrameFlags.None;
        byte[]? compressed = null;
        ReadOnlySpan<byte> stored = raw;
        try
        {
            if (IsCompressible(frame.Type) && raw.Length >= CompressBodyBytesMin)
            {
                compressed = ArrayPool<byte>.Shared.Rent(Lz4.MaxCompressedLength(raw.Length));
                int compressedLength = Lz4.Compress(raw, compressed);
                if (compressedLength < raw.Length)
                {
                    stored = compressed.AsSpan(0, compressedLength);
                    flags |= SyncFrameFlags.Compressed;
                }
            }

            int total = FixedHeaderBytes + 2 + fleetBytes + nodeBytes + stored.Length + 4;
            if (total > limits.FrameBytesMax)
            {
                SyncProtocolException.Throw(SyncProtocolErrorCode.FrameTooLarge, $"{frame.Type} frame of {total} bytes exceeds FrameBytesMax {limits.FrameBytesMax}.");
            }

            Span<byte> span = destination.GetSpan(total)[..total];
            BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
            span[4] = CurrentVersion;
            span[5] = (byte)frame.Type;
            span[6] = (byte)flags;
            span[7] = 0;
            BinaryPrimitives.WriteUInt64LittleEndian(span[8..], frame.Sender);
            BinaryPrimitives.WriteUInt32LittleEndian(span[16..], (uint)stored.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(span[20..], (uint)raw.Length);
            int position = FixedHeaderBytes;
            span[position++] = (byte)fleetBytes;
            position += Encoding.UTF8.GetBytes(frame.Fleet, span[position..]);
            span[position++] = (byte)nodeBytes;
            position += Encoding.UTF8.GetBytes(frame.Node, span[position..]);
            stored.CopyTo(span[position..]);
            position += stored.Length;
            BinaryPrimitives.WriteUInt32LittleEndian(span[position..], Crc32C.Compute(span[..position]));
            destination.Advance(total);
            return total;
        }
        finally
        {
            if (compressed is not null)
            {
                ArrayPool<byte>.Shared.Return(compressed);
            }
        }
    }

    /// <summary>Decodes a frame, throwing on any defect.</summary>
    /// <exception cref="SyncProtocolException">The bytes are not a valid frame; <see cref="SyncProtocolException.Code"/> says why.</exception>
    public static SyncFrame Decode(ReadOnlySpan<byte> source, SyncFrameLimits? limits = null)
    {
        if (!TryDecode(source, limits, out SyncFrame? frame, out SyncDecodeError error))
        {
            throw error.ToException();
        }

        return frame;
    }

    /// <summary>
    /// Decodes a frame. Never throws for bad input and never reads outside <paramref name="source"/>;
    /// the decoded frame owns a copy of the body, so <paramref name="source"/> may be reused at once.
    /// </summary>
    /// <returns>True with <paramref name="frame"/> set, or false with <paramref name="error"/> set.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> source, SyncFrameLimits? limits, [NotNullWhen(true)] out SyncFrame? frame, out SyncDecodeError error)
    {
        limits ??= SyncFrameLimits.Default;
        frame = null;
        if (source.Length < 5)
        {
            return Fail(SyncProtocolErrorCode.Malformed, $"frame of {source.Length} bytes is shorter than magic and version", out error);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic)
        {
            return Fail(SyncProtocolErrorCode.BadMagic, $"bytes 0-3 are 0x{BinaryPrimitives.ReadUInt32LittleEndian(source):X8}, not the sync magic 0x{Magic:X8}", out error);
        }

        byte version = source[4];
        if (version > CurrentVersion)
        {
            return Fail(SyncProtocolErrorCode.UnsupportedVersion, $"frame protocol version {version} is newer than this build's {CurrentVersion}; upgrade this side", out error);
        }

        if (version == 0)
        {
            return Fail(SyncProtocolErrorCode.Malformed, "frame protocol version 0 does not exist", out error);
        }

        if (source.Length > limits.FrameBytesMax)
        {
            return Fail(SyncProtocolErrorCode.FrameTooLarge, $"frame of {source.Length} bytes exceeds FrameBytesMax {limits.FrameBytesMax}", out error);
        }

        if (source.Length < FixedHeaderBytes + 2 + 4)
        {
            return Fail(SyncProtocolErrorCode.Malformed, $"frame of {source.Length} bytes is shorter than the {FixedHeaderBytes + 6}-byte minimum", out error);
        }

        var type = (SyncFrameType)source[5];
        if (type is < SyncFrameType.UploadBatch or > SyncFrameType.Status)
        {
            return Fail(SyncProtocolErrorCode.UnknownFrameType, $"frame type {source[5]} at offset 5 is unknown", out error);
        }

        var flags = (SyncFrameFlags)source[6];
        if ((flags & ~(SyncFrameFlags.Compressed | SyncFrameFlags.Last)) != 0 || source[7] != 0)
        {
            return Fail(SyncProtocolErrorCode.Malformed, $"unknown flag bits 0x{source[6]:X2} or reserved byte 0x{source[7]:X2} at offsets 6-7", out error);
        }

        ulong sender = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        uint storedLength = BinaryPrimitives.ReadUInt32LittleEndian(source[16..]);
        uint rawLength = BinaryPrimitives.ReadUInt32LittleEndian(source[20..]);
        int position = FixedHeaderBytes;
        if (!TryReadName(source, ref position, "fleet", out string? fleet, out error) ||
            !TryReadName(source, ref position, "node", out string? node, out error))
        {
            return false;
        }

        if ((long)position + storedLength + 4 != source.Length)
        {
            return Fail(SyncProtocolErrorCode.Malformed, $"header declares a {storedLength}-byte body at offset {position} but the frame is {source.Length} bytes", out error);
        }

        uint expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(source[^4..]);
        uint actualCrc = Crc32C.Compute(source[..^4]);
        if (expectedCrc != actualCrc)
        {
            return Fail(SyncProtocolErrorCode.ChecksumMismatch, $"CRC32C 0x{actualCrc:X8} does not match 0x{expectedCrc:X8} at offset {source.Length - 4}", out error);
        }

        if (rawLength > (uint)limits.RawBodyBytesMax)
        {
            return Fail(SyncProtocolErrorCode.FrameTooLarge, $"raw body of {rawLength} bytes exceeds RawBodyBytesMax {limits.RawBodyBytesMax}", out error);
        }

        ReadOnlySpan<byte> stored = source.Slice(position, (int)storedLength);
        byte[] body = rawLength == 0 ? [] : new byte[rawLength];
        if ((flags & SyncFrameFlags.Compressed) != 0)
        {
            if (!Lz4.TryDecompress(stored, body, out int written) || written != rawLength)
            {
                return Fail(SyncProtocolErrorCode.DecompressionFailed, $"LZ4 body at offset {position} ({storedLength} bytes) does not decompress to the declared {rawLength} bytes", out error);
            }
        }
        else
        {
            if (storedLength != rawLength)
            {
                return Fail(SyncProtocolErrorCode.Malformed, $"uncompressed body declares raw length {rawLength} but stores {storedLength} bytes", out error);
            }

            stored.CopyTo(body);
        }

        var header = new Header(fleet!, node!, sender, (flags & SyncFrameFlags.Last) != 0);
        return TryDecodeBody(type, header, body, limits, out frame, out error);
    }

    private readonly record struct Header(string Fleet, string Node, ulong Sender, bool IsLast);

    private static bool IsCompressible(SyncFrameType type) =>
        type is SyncFrameType.UploadBatch or SyncFrameType.DownloadBatch or SyncFrameType.SnapshotChunk or SyncFrameType.Pull;

    private static int NameByteCount(string name, string what)
    {
        if (!IsValidName(name))
        {
            SyncProtocolException.Throw(SyncProtocolErrorCode.InvalidName, $"{what} '{name}' must be 1-{NameBytesMax} UTF-8 bytes without '/', '+', '#' or control characters.");
        }

        return Encoding.UTF8.GetByteCount(name);
    }

    private static bool TryReadName(ReadOnlySpan<byte> source, ref int position, string what, out string? name, out SyncDecodeError error)
    {
        name = null;
        int length = source[position];
        if (length == 0 || length > NameBytesMax || position + 1 + length > source.Length - 4)
        {
            return Fail(SyncProtocolErrorCode.InvalidName, $"{what} name length {length} at offset {position} is out of range 1-{NameBytesMax} or past the frame", out error);
        }

        ReadOnlySpan<byte> bytes = source.Slice(position + 1, length);
        if (!Utf8.IsValid(bytes))
        {
            return Fail(SyncProtocolErrorCode.InvalidName, $"{what} name at offset {position + 1} is not valid UTF-8", out error);
        }

        name = Encoding.UTF8.GetString(bytes);
        if (!IsValidName(name))
        {
            return Fail(SyncProtocolErrorCode.InvalidName, $"{what} name '{name}' at offset {position + 1} holds a topic or control character", out error);
        }

        position += 1 + length;
        error = default;
        return true;
    }

    private static bool Fail(SyncProtocolErrorCode code, string message, out SyncDecodeError error)
    {
        error = new SyncDecodeError(code, message);
        return false;
    }

    private static void WriteBody(SyncFrame frame, FrameBodyWriter w, SyncFrameLimits limits)
    {
        switch (frame)
        {
            case UploadBatchFrame upload:
                CheckOpCount(upload.Ops.Count, limits);
                w.WriteUInt64(upload.Origin);
                w.WriteVarint(upload.FirstSeq);
                w.WriteVarint((ulong)upload.Ops.Count);
                for (int i = 0; i < upload.Ops.Count; i++)
                {
                    SyncOp op = upload.Ops[i];
                    if (op.Origin != upload.Origin || op.Seq != upload.FirstSeq + i)
                    {
                        SyncProtocolException.Throw(SyncProtocolErrorCode.Malformed, $"upload op {i} is ({op.Origin:X16}, {op.Seq}); expected ({upload.Origin:X16}, {upload.FirstSeq + i}).");
                    }

                    CheckOpSize(op, limits);
                    w.WriteUInt64(op.Hlc);
                    w.WriteByte((byte)op.Flags);
                    w.WriteVarint((ulong)op.Payload.Length);
                    w.WriteBytes(op.Payload.Span);
                }

                break;
            case AckFrame ack:
                w.WriteUInt64(ack.Origin);
                w.WriteVarint(ack.AckedSeq);
                w.WriteVarint(ack.HeadLsn);
                w.WriteVarint(ack.LeaderUnixMilliseconds);
                break;
            case ResendRequestFrame resend:
                w.WriteUInt64(resend.Origin);
                w.WriteVarint(resend.FromSeq);
                break;
            case PullFrame pull:
                if (pull.VersionVector.Count > limits.VersionVectorEntriesMax)
                {
                    SyncProtocolException.Throw(SyncProtocolErrorCode.FrameTooLarge, $"pull carries {pull.VersionVector.Count} version-vector entries; VersionVectorEntriesMax is {limits.VersionVectorEntriesMax}.");
                }

                w.WriteVarint(pull.AfterLsn);
                w.WriteByte(pull.UploadDrained ? (byte)1 : (byte)0);
                w.WriteUInt64(pull.SnapshotId);
                w.WriteVarint(pull.SnapshotNextChunk);
                w.WriteVarint((ulong)pull.VersionVector.Count);
                foreach (KeyValuePair<ulong, long> entry in pull.VersionVector)
                {
                    w.WriteUInt64(entry.Key);
                    w.WriteVarint(entry.Value);
                }

                break;
            case DownloadBatchFrame download:
                CheckOpCount(download.Ops.Count, limits);
                if (download.ToLsn < download.FromLsn || download.HeadLsn < download.ToLsn)
                {
                    SyncProtocolException.Throw(SyncProtocolErrorCode.Malformed, $"download range ({download.FromLsn}, {download.ToLsn}] with head {download.HeadLsn} is out of order.");
                }

                w.WriteVarint(download.FromLsn);
                w.WriteVarint(download.ToLsn - download.FromLsn);
                w.WriteVarint(download.HeadLsn - download.ToLsn);
                w.WriteVarint(download.LeaderUnixMilliseconds);
                w.WriteVarint((ulong)download.Ops.Count);
                long previous = download.FromLsn;
                foreach (SyncOp op in download.Ops)
                {
                    if (op.Lsn <= previous || op.Lsn > download.ToLsn || op.Seq < 1)
                    {
                        SyncProtocolException.Throw(SyncProtocolErrorCode.Malformed, $"download op LSN {op.Lsn} (seq {op.Seq}) is not in ({previous}, {download.ToLsn}].");
                    }

                    CheckOpSize(op, limits);
                    w.WriteVarint(op.Lsn - previous);
                    w.WriteUInt64(op.Origin);
                    w.WriteVarint(op.Seq);
                    w.WriteUInt64(op.Hlc);
                    w.WriteByte((byte)op.Flags);
                    w.WriteVarint((ulong)op.Payload.Length);
                    w.WriteBytes(op.Payload.Span);
                    previous = op.Lsn;
                }

                break;
            case SnapshotChunkFrame chunk:
                if (chunk.Total < 1 || chunk.Index < 0 || chunk.Index >= chunk.Total || chunk.TotalBytes < chunk.Data.Length)
                {
                    SyncProtocolException.Throw(SyncProtocolErrorCode.Malformed, $"snapshot chunk {chunk.Index} of {chunk.Total} ({chunk.Data.Length} of {chunk.TotalBytes} bytes) is out of range.");
                }

                w.WriteUInt64(chunk.SnapshotId);
                w.WriteVarint(chunk.SnapshotLsn);
                w.WriteVarint(chunk.Index);
                w.WriteVarint(chunk.Total);
                w.WriteVarint(chunk.TotalBytes);
                w.WriteUInt32(chunk.Checksum);
                w.WriteVarint((ulong)chunk.Data.Length);
                w.WriteBytes(chunk.Data.Span);
                break;
            case ErrorFrame errorFrame:
                w.WriteUInt16((ushort)errorFrame.Code);
                w.WriteVarint(errorFrame.Detail);
                byte[] text = Encoding.UTF8.GetBytes(errorFrame.Message);
                int textLength = Math.Min(text.Length, ErrorTextBytesMax);
                while (textLength > 0 && textLength < text.Length && (text[textLength] & 0xC0) == 0x80)
                {
                    textLength--; // never cut inside a UTF-8 sequence
                }

                w.WriteVarint((ulong)textLength);
                w.WriteBytes(text.AsSpan(0, textLength));
                break;
            case StatusFrame status:
                w.WriteByte((byte)status.Kind);
                w.WriteVarint(status.HeadLsn);
                w.WriteVarint(status.LeaderUnixMilliseconds);
                break;
            default:
                SyncProtocolException.Throw(SyncProtocolErrorCode.UnknownFrameType, $"frame class {frame.GetType().Name} has no encoding.");
                break;
        }
    }

    private static void CheckOpCount(int count, SyncFrameLimits limits)
    {
        if (count > limits.OpsPerBatchMax)
        {
            SyncProtocolException.Throw(SyncProtocolErrorCode.TooManyOps, $"batch of {count} ops exceeds OpsPerBatchMax {limits.OpsPerBatchMax}.");
        }
    }

    private static void CheckOpSize(in SyncOp op, SyncFrameLimits limits)
    {
        if (op.Payload.Length > limits.OpBytesMax)
        {
            SyncProtocolException.Throw(SyncProtocolErrorCode.OpTooLarge, $"op ({op.Origin:X16}, {op.Seq}) payload of {op.Payload.Length} bytes exceeds OpBytesMax {limits.OpBytesMax}.");
        }
    }

    private static bool TryDecodeBody(SyncFrameType type, Header h, byte[] body, SyncFrameLimits limits, [NotNullWhen(true)] out SyncFrame? frame, out SyncDecodeError error)
    {
        frame = null;
        var r = new FrameBodyReader(body);
        switch (type)
        {
            case SyncFrameType.UploadBatch:
            {
                ulong origin = r.ReadUInt64();
                long firstSeq = r.ReadVarintInt64();
                int count = r.ReadVarintInt32(limits.OpsPerBatchMax);
                // 10 bytes is the smallest encoded op: hlc, flags, a zero length.
                if (r.Failed || count > r.Remaining / 10 || firstSeq < 1 || firstSeq > long.MaxValue - count)
                {
                    return BodyFail(type, "batch prefix (origin, first seq, count)", r.Position, out error);
                }

                var ops = new SyncOp[count];
                for (int i = 0; i < count; i++)
                {
                    ulong hlc = r.ReadUInt64();
                    var opFlags = (SyncOpFlags)r.ReadByte();
                    int length = r.ReadVarintInt32(int.MaxValue);
                    if (!r.Failed && length > limits.OpBytesMax)
                    {
                        return Fail(SyncProtocolErrorCode.OpTooLarge, $"upload op {i} (seq {firstSeq + i}) payload of {length} bytes exceeds OpBytesMax {limits.OpBytesMax}", out error);
                    }

                    r.ReadBytes(length);
                    if (r.Failed)
                    {
                        return BodyFail(type, $"op {i}", r.Position, out error);
                    }

                    ops[i] = new SyncOp(origin, firstSeq + i, hlc, opFlags, body.AsMemory(r.Position - length, length));
                }

                frame = new UploadBatchFrame { Fleet = h.Fleet, Node = h.Node, Sender = h.Sender, IsLast = h.IsLast, Origin = origin, FirstSeq = firstSeq, Ops = ops };
                break;
            }

            case SyncFrameType.Ack:
            {
                ulong origin = r.ReadUInt64();
                long acked = r.ReadVarintInt64();
                long head = r.ReadVarintInt64();
                long time = r.ReadVarintInt64();
                if (r.Failed)
                {
                    return BodyFail(type, "ack fields", r.Position, out error);
                }

                frame = new AckFrame { Fleet = h.Fleet, Node = h.Node, Sender = h.Sender, IsLast = h.IsLast, Origin = origin, AckedSeq = acked, HeadLsn = head, LeaderUnixMilliseconds = time };
                break;
            }

            case SyncFrameType.ResendRequest:
            {
                ulong origin = r.ReadUInt64();
                long from = r.ReadVarintInt64();
                if (r.Failed || from < 1)
                {
                    return BodyFail(type, "resend fields", r.Position, out error);
                }

                frame = new ResendRequestFrame { Fleet = h.Fleet, Node = h.Node, Sender = h.Sender, IsLast = h.IsLast, Origin = origin, FromSeq = from };
                break;
            }

            case SyncFrameType.Pull:
            {
                long after = r.ReadVarintInt64();
                byte pullFlags = r.ReadByte();
                ulong snapshotId = r.ReadUInt64();
                int nextChunk = r.ReadVarintInt32(int.MaxValue);
                int count = r.ReadVarintInt32(limits.VersionVectorEntriesMax);
                if (r.Failed || pullFlags > 1 || count > r.Remaining / 9)
                {
                    return BodyFail(type, "pull fields", r.Position, out error);
                }

                var vector = new KeyValuePair<ulong, long>[count];
                for (int i = 0; i < count; i++)
                {
                    vector[i] = new KeyValuePair<ulong, long>(r.ReadUInt64(), r.ReadVarintInt64());
                }

                if (r.Failed)
                {
                    return BodyFail(type, "version vector", r.Position, out error);
                }

                frame = new PullFrame
                {
                    Fleet = h.Fleet, Node = h.Node, Sender = h.Sender, IsLast = h.IsLast, AfterLsn = after, UploadDrained = pullFlags == 1,
                    SnapshotId = snapshotId, SnapshotNextChunk = nextChunk, VersionVector = vector,
                };
                break;
            }

            case SyncFrameType.DownloadBatch:
            {
                long from = r.ReadVarintInt64();
                long span = r.ReadVarintInt64();
                long headDelta = r.ReadVarintInt64();
                long time = r.ReadVarintInt64();
                int count = r.ReadVarintInt32(limits.OpsPerBatchMax);
                // 20 bytes is the smallest encoded download op.
                if (r.Failed || span > long.MaxValue - from || headDelta > long.MaxValue - from - span || count > r.Remaining / 20)
                {
                    return BodyFail(type, "batch prefix (from, to, head, time, count)", r.Position, out error);
                }

                long to = from + span;
                var ops = new SyncOp[count];
                long previous = from;
                for (int i = 0; i < count; i++)
                {
                    long delta = r.ReadVarintInt64();
                    ulong origin = r.ReadUInt64();
                    long seq = r.ReadVarintInt64();
                    ulong hlc = r.ReadUInt64();
                    var opFlags = (SyncOpFlags)r.ReadByte();
                    int length = r.ReadVarintInt32(int.MaxValue);
                    if (!r.Failed && length > limits.OpBytesMax)
                    {
                        return Fail(SyncProtocolErrorCode.OpTooLarge, $"download op {i} payload of {length} bytes exceeds OpBytesMax {limits.OpBytesMax}", out error);
                    }

                    r.ReadBytes(length);
                    if (r.Failed || delta < 1 || delta > to - previous || seq < 1)
                    {
                        return BodyFail(type, $"op {i}", r.Position, out error);
                    }

                    previous += delta;
                    ops[i] = new SyncOp(origin, seq, hlc, opFlags, body.AsMemory(r.Position - length, length), previous);
                }

                frame = new DownloadBatchFrame
                {
                    Fleet = h.Fleet, Node = h.Node, Sender = h.Sender, IsLast = h.IsLast, FromLsn = from, ToLsn = to,
                    HeadLsn = to + headDelta, LeaderUnixMilliseconds = time, Ops = ops,
                };
                break;
            }

            case SyncFrameType.SnapshotChunk:
            {
                ulong id = r.ReadUInt64();
                long lsn = r.ReadVarintInt64();
                int index = r.ReadVarintInt32(int.MaxValue);
                int total = r.ReadVarintInt32(int.MaxValue);
                long totalBytes = r.ReadVarintInt64();
                uint checksum = r.ReadUInt32();
                int length = r.ReadVarintInt32(int.MaxValue);
                r.ReadBytes(length);
                if (r.Failed || total < 1 || index >= total || totalBytes < length)
                {
                    return BodyFail(type, "chunk fields", r.Position, out error);
                }

                frame = new SnapshotChunkFrame
                {
                    Fleet = h.Fleet, Node = h.Node, Sender = h.Sender, IsLast = h.IsLast, SnapshotId = id, SnapshotLsn = lsn,
                    Index = index, Total = total, TotalBytes = totalBytes, Checksum = checksum, Data = body.AsMemory(r.Position - length, length),
                };
                break;
            }

            case SyncFrameType.Error:
            {
                ushort code = r.ReadUInt16();
                long detail = r.ReadVarintInt64();
                int length = r.ReadVarintInt32(ErrorTextBytesMax);
                ReadOnlySpan<byte> text = r.ReadBytes(length);
                if (r.Failed || !Utf8.IsValid(text))
                {
                    return BodyFail(type, "error fields or text", r.Position, out error);
                }

                frame = new ErrorFrame
                {
                    Fleet = h.Fleet, Node = h.Node, Sender = h.Sender, IsLast = h.IsLast, Code = (SyncProtocolErrorCode)code, Detail = detail,
                    Message = Encoding.UTF8.GetString(text),
                };
                break;
            }

            case SyncFrameType.Status:
            {
                var kind = (SyncStatusKind)r.ReadByte();
                long head = r.ReadVarintInt64();
                long time = r.ReadVarintInt64();
                if (r.Failed || kind is not (SyncStatusKind.UpToDate or SyncStatusKind.NewData))
                {
                    return BodyFail(type, "status fields", r.Position, out error);
                }

                frame = new StatusFrame { Fleet = h.Fleet, Node = h.Node, Sender = h.Sender, IsLast = h.IsLast, Kind = kind, HeadLsn = head, LeaderUnixMilliseconds = time };
                break;
            }

            default:
                return Fail(SyncProtocolErrorCode.UnknownFrameType, $"frame type {(byte)type} is unknown", out error);
        }

        if (r.Remaining != 0)
        {
            frame = null;
            return Fail(SyncProtocolErrorCode.Malformed, $"{type} body has {r.Remaining} bytes left over at body offset {r.Position}", out error);
        }

        error = default;
        return true;
    }

    private static bool BodyFail(SyncFrameType type, string what, int offset, out SyncDecodeError error) =>
        Fail(SyncProtocolErrorCode.Malformed, $"{type} body: {what} malformed or truncated near body offset {offset}", out error);
}
