using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using CortexEdge.Core.Documents;

namespace CortexEdge.Core.Vectors;

/// <summary>
/// Encodes and decodes vector ops. Pure: no I/O, no state. Decoding checks every length against
/// the bytes left and the limits before reading, so damaged input yields
/// <see cref="EdgeCorruptionException"/> (code <see cref="EdgeErrorCode.VectorRecordMalformed"/>), never an
/// over-read.
/// </summary>
/// <remarks>
/// Layout, little-endian: format version (1 byte), <see cref="VectorOperationKind"/> (1 byte),
/// collection name (u16 length + UTF-8). CreateCollection: metric (1), dimension (u32).
/// Upsert: id, document key (u16 length + UTF-8 each), metric (1), dimension (u32), dimension
/// float32 values. Delete: id. Nothing may follow.
/// </remarks>
internal static class VectorCodec
{
    /// <summary>Longest vector id in UTF-8 bytes.</summary>
    internal const int IdBytesMax = 1024;

    private const byte FormatVersion = 1;
    /// <summary>UTF-8 that throws on a lone surrogate instead of replacing it.</summary>
    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    internal static void EncodeCreateCollection(IBufferWriter<byte> output, string collection, int dimension, VectorMetric metric)
    {
        WriteHead(output, VectorOperationKind.CreateCollection, collection);
        Span<byte> tail = output.GetSpan(5);
        tail[0] = (byte)metric;
        BinaryPrimitives.WriteInt32LittleEndian(tail[1..], dimension);
        output.Advance(5);
    }

    internal static void EncodeUpsert(IBufferWriter<byte> output, string collection, string id, string documentKey, VectorMetric metric, ReadOnlySpan<float> vector)
    {
        WriteHead(output, VectorOperationKind.Upsert, collection);
        WriteString(output, id, "vector id", IdBytesMax);
        WriteString(output, documentKey, "document key", DocumentLimits.KeyBytesMax);
        int bytes = 5 + (vector.Length * sizeof(float));
        Span<byte> tail = output.GetSpan(bytes);
        tail[0] = (byte)metric;
        BinaryPrimitives.WriteInt32LittleEndian(tail[1..], vector.Length);
        Span<byte> values = tail[5..];
        for (int i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(values[(i * 4)..], vector[i]);
        }

        output.Advance(bytes);
    }

    internal static void EncodeDelete(IBufferWriter<byte> output, string collection, string id)
    {
        WriteHead(output, VectorOperationKind.Delete, collection);
        WriteString(output, id, "vector id", IdBytesMax);
    }

    /// <summary>Checks a collection name, id or key before it is encoded.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VectorInvalid"/>: empty, not valid UTF-16, or too long.</exception>
    internal static void ValidateName(string value, string what, int bytesMax)
    {
        ArgumentNullException.ThrowIfNull(value, what);
        if (value.Length == 0)
        {
            throw new EdgeException(EdgeErrorCode.VectorInvalid, $"The {what} must not be empty.");
        }

        int byteCount;
        try
        {
            byteCount = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException exception)
        {
            throw new EdgeException(EdgeErrorCode.VectorInvalid, $"The {what} '{value}' is not valid UTF-16 (lone surrogate).", exception);
        }

        if (byteCount > bytesMax)
        {
            throw new EdgeException(EdgeErrorCode.VectorInvalid, $"The {what} is {byteCount} UTF-8 bytes; the limit is {bytesMax}.");
        }
    }

    /// <summary>Decodes one op; <paramref name="location"/> names the record in errors (e.g. "WAL LSN 42").</summary>
    /// <exception cref="EdgeCorruptionException">The bytes are not a valid vector op.</exception>
    internal static VectorOperation Decode(ReadOnlySpan<byte> source, string location)
    {
        var reader = new Reader(source, location);
        byte version = reader.Byte("format version");
        if (version != FormatVersion)
        {
            throw reader.Error($"unknown vector op format version {version}");
        }

        var kind = (VectorOperationKind)reader.Byte("op kind");
        string collection = reader.String("collection name", DocumentLimits.CollectionNameBytesMax);
        switch (kind)
        {
            case VectorOperationKind.CreateCollection:
            {
                VectorMetric metric = reader.Metric();
                int dimension = reader.Dimension();
                reader.CheckEnd();
                return new VectorOperation(kind, collection, "", null, metric, dimension, null);
            }

            case VectorOperationKind.Upsert:
            {
                string id = reader.String("vector id", IdBytesMax);
                string key = reader.String("document key", DocumentLimits.KeyBytesMax);
                VectorMetric metric = reader.Metric();
                int dimension = reader.Dimension();
                float[] vector = reader.Floats(dimension);
                reader.CheckEnd();
                return new VectorOperation(kind, collection, id, key, metric, dimension, vector);
            }

            case VectorOperationKind.Delete:
            {
                string id = reader.String("vector id", IdBytesMax);
                reader.CheckEnd();
                return new VectorOperation(kind, collection, id, null, default, 0, null);
            }

            default:
                throw reader.Error($"unknown vector op kind {(byte)kind}");
        }
    }

    private static void WriteHead(IBufferWriter<byte> output, VectorOperationKind kind, string collection)
    {
        Span<byte> head = output.GetSpan(2);
        head[0] = FormatVersion;
        head[1] = (byte)kind;
        output.Advance(2);
        WriteString(output, collection, "collection name", DocumentLimits.CollectionNameBytesMax);
    }

    private static void WriteString(IBufferWriter<byte> output, string value, string what, int bytesMax)
    {
        ValidateName(value, what, bytesMax);
        int byteCount = StrictUtf8.GetByteCount(value);
        Span<byte> span = output.GetSpan(2 + byteCount);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)byteCount);
        StrictUtf8.GetBytes(value, span[2..]);
        output.Advance(2 + byteCount);
    }

    private ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _source;
        private readonly string _location;
        private int _offset;

        internal Reader(ReadOnlySpan<byte> source, string location)
        {
            _source = source;
            _location = location;
            _offset = 0;
        }

        internal readonly EdgeCorruptionException Error(string message) =>
            new(EdgeErrorCode.VectorRecordMalformed, $"{_location} offset {_offset}", $"Malformed vector op: {message}");

        internal byte Byte(string what)
        {
            Need(1, what);
            return _source[_offset++];
        }

        internal string String(string what, int bytesMax)
        {
            Need(2, what);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(_source[_offset..]);
            if (length == 0 || length > bytesMax)
            {
                throw Error($"{what} length {length} is outside 1..{bytesMax}");
            }

            _offset += 2;
            Need(length, what);
            string value;
            try
            {
                value = StrictUtf8.GetString(_source.Slice(_offset, length));
            }
            catch (DecoderFallbackException exception)
            {
                throw new EdgeCorruptionException(EdgeErrorCode.VectorRecordMalformed, $"{_location} offset {_offset}", $"Malformed vector op: {what} is not valid UTF-8", exception);
            }

            _offset += length;
            return value;
        }

        internal VectorMetric Metric()
        {
            byte metric = Byte("metric");
            if (!Enum.IsDefined((VectorMetric)metric))
            {
                throw Error($"unknown metric {metric}");
            }

            return (VectorMetric)metric;
        }

        internal int Dimension()
        {
            Need(4, "dimension");
            int dimension = BinaryPrimitives.ReadInt32LittleEndian(_source[_offset..]);
            if (dimension is < 1 or > VectorCollectionOptions.DimensionMax)
            {
                throw Error($"dimension {dimension} is outside 1..{VectorCollectionOptions.DimensionMax}");
            }

            _offset += 4;
            return dimension;
        }

        internal float[] Floats(int count)
        {
            Need(count * sizeof(float), "vector components");
            float[] values = new float[count];
            for (int i = 0; i < count; i++)
            {
                float value = BinaryPrimitives.ReadSingleLittleEndian(_source[(_offset + (i * 4))..]);
                if (!float.IsFinite(value))
                {
                    throw Error($"component {i} is {value}; only finite values are ever written");
                }

                values[i] = value;
            }

            _offset += count * sizeof(float);
            return values;
        }

        internal readonly void CheckEnd()
        {
            if (_offset != _source.Length)
            {
                throw Error($"{_source.Length - _offset} bytes follow the op");
            }
        }

        private readonly void Need(int count, string what)
        {
            if (count > _source.Length - _offset)
            {
                throw Error($"{what} needs {count} bytes, {_source.Length - _offset} left");
            }
        }
    }
}
