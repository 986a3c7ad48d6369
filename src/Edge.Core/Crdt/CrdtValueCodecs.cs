using System.Text;

namespace CortexEdge.Core.Crdt;

/// <summary>The built-in value codecs.</summary>
public static class CrdtValueCodecs
{
    /// <summary>UTF-8 strings, varint length prefix, ordinal order; invalid UTF-8 is rejected on read.</summary>
    public static CrdtValueCodec<string> String { get; } = new StringCodec();

    /// <summary>64-bit integers as zigzag varints.</summary>
    public static CrdtValueCodec<long> Int64 { get; } = new Int64Codec();

    /// <summary>Opaque byte strings (e.g. UTF-8 JSON of a document field), varint length prefix, lexicographic order.</summary>
    public static CrdtValueCodec<byte[]> Bytes { get; } = new BytesCodec();

    private sealed class StringCodec : CrdtValueCodec<string>
    {
        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        public override void Write(ref CrdtWriter writer, string value)
        {
            int byteCount = Encoding.UTF8.GetByteCount(value);
            writer.WriteVarUInt64((ulong)byteCount);
            if (byteCount <= 256)
            {
                Span<byte> bytes = stackalloc byte[byteCount];
                Encoding.UTF8.GetBytes(value, bytes);
                writer.WriteRaw(bytes);
            }
            else
            {
                writer.WriteRaw(Encoding.UTF8.GetBytes(value));
            }
        }

        public override string Read(ref CrdtReader reader)
        {
            int start = reader.Offset;
            ReadOnlySpan<byte> bytes = reader.ReadLengthPrefixed();
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException exception)
            {
                throw new EdgeException(EdgeErrorCode.CrdtMalformed, $"malformed CRDT encoding at offset {start}: string is not valid UTF-8", exception);
            }
        }

        public override int Compare(string? x, string? y) => string.CompareOrdinal(x, y);

        public override bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

        public override int GetHashCode(string obj) => StringComparer.Ordinal.GetHashCode(obj);
    }

    private sealed class Int64Codec : CrdtValueCodec<long>
    {
        public override void Write(ref CrdtWriter writer, long value) => writer.WriteVarInt64(value);

        public override long Read(ref CrdtReader reader) => reader.ReadVarInt64();

        public override int Compare(long x, long y) => x.CompareTo(y);

        public override bool Equals(long x, long y) => x == y;

        public override int GetHashCode(long obj) => obj.GetHashCode();
    }

    private sealed class BytesCodec : CrdtValueCodec<byte[]>
    {
        public override void Write(ref CrdtWriter writer, byte[] value) => writer.WriteLengthPrefixed(value);

        public override byte[] Read(ref CrdtReader reader) => reader.ReadLengthPrefixed().ToArray();

        public override int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);

        public override bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public override int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
