using System.Buffers;
using CortexEdge.Core.Documents;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// Pure binary codec of <see cref="AntiEntropyMessage"/>: byte 0 format version, byte 1 kind,
/// byte 2 depth, byte 3 level, then per kind: requests a varint count and ascending indices as
/// varint deltas; digest replies a varint count and 8-byte little-endian hashes; bucket replies a
/// varint bucket count, the per-bucket item counts, then each item as a varint-prefixed UTF-8 key
/// and its 8-byte hash. Thread-safe (stateless).
/// </summary>
public static class AntiEntropyCodec
{
    /// <summary>The format version written and the newest one read.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Most indices in one request.</summary>
    public const int IndexCountMax = 4096;

    /// <summary>Most hashes in one digest reply (a full request's children).</summary>
    public const int HashCountMax = IndexCountMax * MerkleDigest.Fanout;

    /// <summary>Most items in one bucket reply.</summary>
    public const int ItemCountMax = 1 << 20;

    /// <summary>Largest document in a document reply, in bytes (the database's encoded document limit).</summary>
    public const int DocumentBytesMax = DocumentLimits.EncodedBytesMax;

    /// <summary>Longest key, in UTF-8 bytes (the document key limit).</summary>
    public const int KeyBytesMax = DocumentLimits.KeyBytesMax;

    private const int HeaderBytes = 4;

    /// <summary>Appends the encoding of <paramref name="message"/> to <paramref name="output"/>.</summary>
    public static void Encode(AntiEntropyMessage message, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> header = output.GetSpan(HeaderBytes);
        header[0] = FormatVersion;
        header[1] = (byte)message.Kind;
        header[2] = (byte)message.Depth;
        header[3] = (byte)message.Level;
        output.Advance(HeaderBytes);
        switch (message.Kind)
        {
            case AntiEntropyMessageKind.DigestRequest:
            case AntiEntropyMessageKind.BucketRequest:
                FleetBufferWriter.WriteVarUInt(output, (ulong)message.Indices.Count);
                int previous = -1;
                foreach (int index in message.Indices)
                {
                    FleetBufferWriter.WriteVarUInt(output, (ulong)(index - previous - 1));
                    previous = index;
                }

                break;
            case AntiEntropyMessageKind.DigestReply:
                FleetBufferWriter.WriteVarUInt(output, (ulong)message.Hashes.Count);
                foreach (ulong hash in message.Hashes)
                {
                    FleetBufferWriter.WriteUInt64(output, hash);
                }

                break;
            case AntiEntropyMessageKind.BucketReply:
                FleetBufferWriter.WriteVarUInt(output, (ulong)message.BucketCounts.Count);
                foreach (int count in message.BucketCounts)
                {
                    FleetBufferWriter.WriteVarUInt(output, (ulong)count);
                }

                foreach (AntiEntropyItem item in message.Items)
                {
                    FleetBufferWriter.WriteString(output, item.Key);
                    FleetBufferWriter.WriteUInt64(output, item.Hash);
                }

                break;
            case AntiEntropyMessageKind.DocumentRequest:
                FleetBufferWriter.WriteVarUInt(output, (ulong)message.Keys.Count);
                foreach (string key in message.Keys)
                {
                    FleetBufferWriter.WriteString(output, key);
                }

                break;
            case AntiEntropyMessageKind.DocumentReply:
                FleetBufferWriter.WriteVarUInt(output, (ulong)message.Documents.Count);
                foreach (AntiEntropyDocument document in message.Documents)
                {
                    FleetBufferWriter.WriteString(output, document.Key);
                    FleetBufferWriter.WriteByte(output, document.Present ? (byte)1 : (byte)0);
                    FleetBufferWriter.WriteUInt64(output, document.Version);
                    if (document.Present)
                    {
                        FleetBufferWriter.WriteVarUInt(output, (ulong)document.Utf8Json.Length);
                        output.Write(document.Utf8Json.Span);
                    }
                }

                break;
            default:
                throw new ArgumentException($"Unknown anti-entropy message kind {message.Kind}.", nameof(message));
        }
    }

    /// <summary>The encoding of <paramref name="message"/> as a new array.</summary>
    public static byte[] Encode(AntiEntropyMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        Encode(message, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes one message that fills <paramref name="source"/> exactly.</summary>
    /// <exception cref="FleetProtocolException">AntiEntropyMalformed, AntiEntropyVersionUnsupported or AntiEntropyLimitExceeded, with the offset.</exception>
    public static AntiEntropyMessage Decode(ReadOnlySpan<byte> source)
    {
        var reader = new FleetSpanReader(source, FleetErrorCode.AntiEntropyMalformed, "anti-entropy message");
        byte version = reader.ReadByte();
        if (version == 0 || version > FormatVersion)
        {
            throw new FleetProtocolException(FleetErrorCode.AntiEntropyVersionUnsupported,
                $"anti-entropy message: format version {version} is not supported (this build reads 1..{FormatVersion})", 0);
        }

        var kind = (AntiEntropyMessageKind)reader.ReadByte();
        int depth = reader.ReadByte();
        int level = reader.ReadByte();
        if (depth is < 1 or > MerkleDigest.DepthMax)
        {
            reader.Fail($"depth {depth} is outside 1..{MerkleDigest.DepthMax}");
        }

        if (level > depth)
        {
            reader.Fail($"level {level} is deeper than depth {depth}");
        }

        if (level != 0 && kind is not (AntiEntropyMessageKind.DigestRequest or AntiEntropyMessageKind.DigestReply))
        {
            reader.Fail($"level {level} in a bucket message (must be 0)");
        }

        int levelWidth = 1 << (MerkleDigest.FanoutBits * depth);
        AntiEntropyMessage message;
        switch (kind)
        {
            case AntiEntropyMessageKind.DigestRequest:
                int parentWidth = level == 0 ? 1 : 1 << (MerkleDigest.FanoutBits * (level - 1));
                message = AntiEntropyMessage.DigestRequest(depth, level, ReadIndices(ref reader, parentWidth));
                break;
            case AntiEntropyMessageKind.BucketRequest:
                message = AntiEntropyMessage.BucketRequest(depth, ReadIndices(ref reader, levelWidth));
                break;
            case AntiEntropyMessageKind.DigestReply:
                int hashCount = reader.ReadCount(HashCountMax, "hash count");
                if (hashCount * 8 > reader.Remaining)
                {
                    reader.Fail($"truncated: {hashCount} hashes need {hashCount * 8} bytes, {reader.Remaining} left");
                }

                var hashes = new ulong[hashCount];
                for (int index = 0; index < hashes.Length; index++)
                {
                    hashes[index] = reader.ReadUInt64();
                }

                message = AntiEntropyMessage.DigestReply(depth, level, hashes);
                break;
            case AntiEntropyMessageKind.BucketReply:
                int bucketCount = reader.ReadCount(IndexCountMax, "bucket count");
                if (bucketCount > reader.Remaining)
                {
                    reader.Fail($"truncated: {bucketCount} bucket counts, {reader.Remaining} bytes left");
                }

                var counts = new int[bucketCount];
                long total = 0;
                for (int index = 0; index < counts.Length; index++)
                {
                    counts[index] = reader.ReadCount(ItemCountMax, "bucket item count");
                    total += counts[index];
                }

                // Each item takes at least 9 bytes: check before allocating what a forged count claims.
                if (total > ItemCountMax || total * 9 > reader.Remaining)
                {
                    reader.Fail($"{total} items cannot fit in {reader.Remaining} bytes (limit {ItemCountMax})");
                }

                var items = new AntiEntropyItem[total];
                for (int index = 0; index < items.Length; index++)
                {
                    string key = reader.ReadString(KeyBytesMax, "key");
                    items[index] = new AntiEntropyItem(key, reader.ReadUInt64());
                }

                message = AntiEntropyMessage.BucketReply(depth, counts, items);
                break;
            case AntiEntropyMessageKind.DocumentRequest:
            {
                int count = reader.ReadCount(IndexCountMax, "key count");
                if (count > reader.Remaining)
                {
                    reader.Fail($"truncated: {count} keys, {reader.Remaining} bytes left");
                }

                var keys = new string[count];
                for (int index = 0; index < keys.Length; index++)
                {
                    keys[index] = reader.ReadString(KeyBytesMax, "key");
                }

                message = AntiEntropyMessage.DocumentRequest(depth, keys);
                break;
            }

            case AntiEntropyMessageKind.DocumentReply:
            {
                int count = reader.ReadCount(IndexCountMax, "document count");
                if (count * 2L > reader.Remaining)
                {
                    reader.Fail($"truncated: {count} documents, {reader.Remaining} bytes left");
                }

                var documents = new AntiEntropyDocument[count];
                for (int index = 0; index < documents.Length; index++)
                {
                    string key = reader.ReadString(KeyBytesMax, "key");
                    byte present = reader.ReadByte();
                    if (present > 1)
                    {
                        reader.Fail($"presence byte {present} (must be 0 or 1)");
                    }

                    ulong documentVersion = reader.ReadUInt64();
                    if (present == 0)
                    {
                        documents[index] = new AntiEntropyDocument(key, false, documentVersion, ReadOnlyMemory<byte>.Empty);
                        continue;
                    }

                    int length = reader.ReadCount(DocumentBytesMax, "document length");
                    documents[index] = new AntiEntropyDocument(key, true, documentVersion, reader.ReadBytes(length, "document").ToArray());
                }

                message = AntiEntropyMessage.DocumentReply(depth, documents);
                break;
            }

            default:
                reader.Fail($"unknown kind {(byte)kind}");
                return null!;
        }

        reader.ExpectEnd();
        return message;
    }

    /// <summary>Like <see cref="Decode"/>; returns false with the error instead of throwing.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> source, out AntiEntropyMessage? message, out FleetProtocolException? error)
    {
        try
        {
            message = Decode(source);
            error = null;
            return true;
        }
        catch (FleetProtocolException exception)
        {
            message = null;
            error = exception;
            return false;
        }
    }

    private static int[] ReadIndices(ref FleetSpanReader reader, int width)
    {
        int count = reader.ReadCount(IndexCountMax, "index count");
        if (count > reader.Remaining)
        {
            reader.Fail($"truncated: {count} indices, {reader.Remaining} bytes left");
        }

        var indices = new int[count];
        long previous = -1;
        for (int index = 0; index < count; index++)
        {
            ulong delta = reader.ReadVarUInt();
            long value = previous + 1 + (long)Math.Min(delta, (ulong)width);
            if (value >= width)
            {
                reader.Fail($"index {previous + 1 + (decimal)delta} is outside the level's {width} nodes");
            }

            indices[index] = (int)value;
            previous = value;
        }

        return indices;
    }
}
