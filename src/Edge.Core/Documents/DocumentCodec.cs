using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using CortexEdge.Core.Binary;

namespace CortexEdge.Core.Documents;

/// <summary>
/// Encodes and decodes document operation bodies (the part of a <c>Document</c> WAL record after the
/// operation header). Pure functions; the decoder validates everything (lengths, UTF-8, JSON values,
/// limits) and throws <see cref="EdgeCorruptionException"/> with <see cref="EdgeErrorCode.DocumentMalformed"/>.
/// </summary>
/// <remarks>
/// Layout: format version (1 byte, <see cref="FormatVersion"/>), kind (1 byte), collection and key
/// (LEB128 length + UTF-8), field count (LEB128), then per field its name (LEB128 length + UTF-8)
/// and value (LEB128 length + UTF-8 JSON; length 0 removes the field).
/// </remarks>
internal static class DocumentCodec
{
    public const byte FormatVersion = 1;

    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encodes a put or patch from a JSON object (patch: a null value removes the field).</summary>
    /// <exception cref="EdgeException">DocumentInvalid (not an object), DocumentKeyInvalid, DocumentTooLarge.</exception>
    public static void EncodeFromJson(ArrayBufferWriter<byte> output, DocumentOperationKind kind, string collection, string key, JsonElement document)
    {
        if (document.ValueKind != JsonValueKind.Object)
        {
            throw new EdgeException(EdgeErrorCode.DocumentInvalid, $"Document '{key}' in collection '{collection}' must be a JSON object; got {document.ValueKind}.");
        }

        int start = output.WrittenCount;
        WriteHeader(output, kind, collection, key);
        int countPosition = output.WrittenCount;
        // Field count is patched in afterwards: reserve the largest LEB128 size of FieldCountMax (2 bytes).
        output.GetSpan(2)[..2].Clear();
        output.Advance(2);
        int count = 0;
        foreach (JsonProperty property in document.EnumerateObject())
        {
            if (++count > DocumentLimits.FieldCountMax)
            {
                throw new EdgeException(EdgeErrorCode.DocumentTooLarge, $"Document '{key}' in collection '{collection}' has more than {DocumentLimits.FieldCountMax} fields.");
            }

            WriteName(output, property.Name, "field name", DocumentLimits.FieldNameBytesMax);

            bool remove = kind == DocumentOperationKind.Patch && property.Value.ValueKind == JsonValueKind.Null;
            WriteBytes(output, remove ? [] : JsonMarshal.GetRawUtf8Value(property.Value));
        }

        WritePaddedCount(MemoryMarshal.AsMemory(output.WrittenMemory).Span[countPosition..], count);
        if (output.WrittenCount - start > DocumentLimits.EncodedBytesMax)
        {
            throw new EdgeException(EdgeErrorCode.DocumentTooLarge, $"Document '{key}' in collection '{collection}' encodes to {output.WrittenCount - start} bytes; the limit is {DocumentLimits.EncodedBytesMax}.");
        }
    }

    /// <summary>Encodes a <see cref="DocumentOperationKind.Crdt"/> or <see cref="DocumentOperationKind.CrdtDelete"/> op: per field its name and <see cref="DocumentCrdtField"/> encoding.</summary>
    public static void EncodeCrdt(ArrayBufferWriter<byte> output, DocumentOperationKind kind, string collection, string key, IReadOnlyList<(string Name, byte[] Delta)> fields)
    {
        int start = output.WrittenCount;
        WriteHeader(output, kind, collection, key);
        WriteVarInt(output, (ulong)fields.Count);
        foreach ((string name, byte[] delta) in fields)
        {
            WriteName(output, name, "field name", DocumentLimits.FieldNameBytesMax);
            WriteBytes(output, delta);
        }

        if (output.WrittenCount - start > DocumentLimits.EncodedBytesMax)
        {
            throw new EdgeException(EdgeErrorCode.DocumentTooLarge, $"Document '{key}' in collection '{collection}': the CRDT op encodes to {output.WrittenCount - start} bytes; the limit is {DocumentLimits.EncodedBytesMax}.");
        }
    }

    /// <summary>Encodes a <see cref="DocumentOperationKind.MergeState"/> op carrying <paramref name="encodedState"/> (a <see cref="DocumentState"/> encoding).</summary>
    public static void EncodeMergeState(ArrayBufferWriter<byte> output, string collection, string key, ReadOnlySpan<byte> encodedState)
    {
        WriteHeader(output, DocumentOperationKind.MergeState, collection, key);
        WriteVarInt(output, 1);
        WriteName(output, string.Empty, "field name", DocumentLimits.FieldNameBytesMax);
        WriteBytes(output, encodedState);
    }

    /// <summary>Encodes a delete.</summary>
    public static void EncodeDelete(ArrayBufferWriter<byte> output, string collection, string key)
    {
        WriteHeader(output, DocumentOperationKind.Delete, collection, key);
        WriteVarInt(output, 0);
    }

    /// <summary>Decodes a body written by this codec.</summary>
    /// <param name="body">The encoded body.</param>
    /// <param name="location">Where the body came from (e.g. "WAL LSN 42"), for the error message.</param>
    public static DocumentOperation Decode(ReadOnlySpan<byte> body, string location) => Decode(new SpanReader(body, location));

    /// <summary>Decodes the body of the WAL record at <paramref name="lsn"/>; errors name "WAL LSN n" (the text is built only on error).</summary>
    public static DocumentOperation Decode(ReadOnlySpan<byte> body, long lsn) => Decode(new SpanReader(body, lsn));

    /// <summary>Reads only the collection and key of the body of the WAL record at <paramref name="lsn"/> (checking version and kind).</summary>
    public static (string Collection, string Key) DecodeTarget(ReadOnlySpan<byte> body, long lsn)
    {
        var reader = new SpanReader(body, lsn);
        byte version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw reader.Error($"unknown document format version {version}");
        }

        byte kindByte = reader.ReadByte();
        if (kindByte is < (byte)DocumentOperationKind.Put or > (byte)DocumentOperationKind.MergeState)
        {
            throw reader.Error($"unknown document operation kind {kindByte}");
        }

        string collection = reader.ReadString(DocumentLimits.CollectionNameBytesMax, "collection", allowEmpty: false);
        string key = reader.ReadString(DocumentLimits.KeyBytesMax, "key", allowEmpty: false);
        return (collection, key);
    }

    private static DocumentOperation Decode(SpanReader reader)
    {
        byte version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw reader.Error($"unknown document format version {version}");
        }

        byte kindByte = reader.ReadByte();
        if (kindByte is < (byte)DocumentOperationKind.Put or > (byte)DocumentOperationKind.MergeState)
        {
            throw reader.Error($"unknown document operation kind {kindByte}");
        }

        var kind = (DocumentOperationKind)kindByte;
        string collection = reader.ReadString(DocumentLimits.CollectionNameBytesMax, "collection", allowEmpty: false);
        string key = reader.ReadString(DocumentLimits.KeyBytesMax, "key", allowEmpty: false);
        int count = reader.ReadCount(DocumentLimits.FieldCountMax, "field count");
        if (kind == DocumentOperationKind.Delete && count != 0)
        {
            throw reader.Error($"a delete carries {count} fields");
        }

        if (kind == DocumentOperationKind.MergeState && count != 1)
        {
            throw reader.Error($"a state merge carries {count} fields, not 1");
        }

        var fields = new DocumentField[count];
        for (int index = 0; index < count; index++)
        {
            string name = reader.ReadString(DocumentLimits.FieldNameBytesMax, "field name", allowEmpty: true);
            ReadOnlySpan<byte> value = reader.ReadBytes(DocumentLimits.EncodedBytesMax, "field value");
            if (value.IsEmpty && kind != DocumentOperationKind.Patch)
            {
                throw reader.Error($"field '{name}' has no value outside a patch");
            }

            if (kind is DocumentOperationKind.Crdt or DocumentOperationKind.CrdtDelete)
            {
                reader.CheckCrdtField(value, name);
            }
            else if (kind == DocumentOperationKind.MergeState)
            {
                // Throws DocumentMalformed naming the location when the state does not decode.
                _ = DocumentState.Decode(value, reader.Location);
            }
            else if (!value.IsEmpty)
            {
                reader.CheckJson(value, name);
            }

            fields[index] = new DocumentField(name, value.ToArray());
        }

        reader.CheckEnd();
        return new DocumentOperation(kind, collection, key, fields);
    }

    /// <summary>Encodes a decoded operation again, field for field (values are written as they are: JSON, or CRDT deltas).</summary>
    public static void Encode(ArrayBufferWriter<byte> output, DocumentOperation operation)
    {
        int start = output.WrittenCount;
        WriteHeader(output, operation.Kind, operation.Collection, operation.Key);
        WriteVarInt(output, (ulong)operation.Fields.Count);
        foreach (DocumentField field in operation.Fields)
        {
            WriteName(output, field.Name, "field name", DocumentLimits.FieldNameBytesMax);
            WriteBytes(output, field.Utf8JsonValue.Span);
        }

        if (output.WrittenCount - start > DocumentLimits.EncodedBytesMax)
        {
            throw new EdgeException(EdgeErrorCode.DocumentTooLarge, $"Document '{operation.Key}' in collection '{operation.Collection}' encodes to {output.WrittenCount - start} bytes; the limit is {DocumentLimits.EncodedBytesMax}.");
        }
    }

    /// <summary>Reads only the collection name of an encoded body (format version, kind, collection); false when that prefix does not decode.</summary>
    public static bool TryReadCollection(ReadOnlySpan<byte> body, out string collection)
    {
        collection = string.Empty;
        if (body.Length < 3 || body[0] != FormatVersion || body[1] is < (byte)DocumentOperationKind.Put or > (byte)DocumentOperationKind.MergeState)
        {
            return false;
        }

        if (!VarInt.TryRead(body[2..], out ulong length, out int read) || length == 0 || length > DocumentLimits.CollectionNameBytesMax || (ulong)(body.Length - 2 - read) < length)
        {
            return false;
        }

        try
        {
            collection = StrictUtf8.GetString(body.Slice(2 + read, (int)length));
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads a <see cref="DocumentOperationKind.MergeState"/> body without decoding the state (the
    /// caller decodes it once): its collection, key and the state's encoding.
    /// </summary>
    /// <exception cref="EdgeCorruptionException">DocumentMalformed: not a well-formed state merge.</exception>
    public static ReadOnlySpan<byte> ReadMergeState(ReadOnlySpan<byte> body, string location, out string collection, out string key)
    {
        var reader = new SpanReader(body, location);
        byte version = reader.ReadByte();
        byte kind = reader.ReadByte();
        if (version != FormatVersion || kind != (byte)DocumentOperationKind.MergeState)
        {
            throw reader.Error($"expected a state merge (format {FormatVersion}, kind {(byte)DocumentOperationKind.MergeState}); got format {version}, kind {kind}");
        }

        collection = reader.ReadString(DocumentLimits.CollectionNameBytesMax, "collection", allowEmpty: false);
        key = reader.ReadString(DocumentLimits.KeyBytesMax, "key", allowEmpty: false);
        if (reader.ReadCount(DocumentLimits.FieldCountMax, "field count") != 1)
        {
            throw reader.Error("a state merge carries exactly one field");
        }

        reader.ReadString(DocumentLimits.FieldNameBytesMax, "field name", allowEmpty: true);
        ReadOnlySpan<byte> state = reader.ReadBytes(DocumentLimits.EncodedBytesMax, "field value");
        reader.CheckEnd();
        return state;
    }

    /// <summary>Checks a collection name or key before it is written.</summary>
    public static void ValidateName(string value, string what, int bytesMax)
    {
        ArgumentNullException.ThrowIfNull(value, what);
        if (value.Length == 0)
        {
            throw new EdgeException(EdgeErrorCode.DocumentKeyInvalid, $"The {what} must not be empty.");
        }

        int byteCount;
        try
        {
            byteCount = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException exception)
        {
            throw new EdgeException(EdgeErrorCode.DocumentKeyInvalid, $"The {what} '{value}' is not valid UTF-16 (lone surrogate).", exception);
        }

        CheckLength(byteCount, value, what, bytesMax);
    }

    private static void WriteHeader(ArrayBufferWriter<byte> output, DocumentOperationKind kind, string collection, string key)
    {
        Span<byte> head = output.GetSpan(2);
        head[0] = FormatVersion;
        head[1] = (byte)kind;
        output.Advance(2);
        ValidateName(collection, "collection name", DocumentLimits.CollectionNameBytesMax);
        ValidateName(key, "document key", DocumentLimits.KeyBytesMax);
        WriteName(output, collection, "collection name", DocumentLimits.CollectionNameBytesMax);
        WriteName(output, key, "document key", DocumentLimits.KeyBytesMax);
    }

    private static void WriteName(ArrayBufferWriter<byte> output, string value, string what, int bytesMax)
    {
        int byteCount;
        try
        {
            byteCount = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException exception)
        {
            throw new EdgeException(EdgeErrorCode.DocumentKeyInvalid, $"The {what} '{value}' is not valid UTF-16 (lone surrogate).", exception);
        }

        CheckLength(byteCount, value, what, bytesMax);
        WriteVarInt(output, (ulong)byteCount);
        int written = StrictUtf8.GetBytes(value, output.GetSpan(byteCount));
        output.Advance(written);
    }

    private static void CheckLength(int byteCount, string value, string what, int bytesMax)
    {
        if (byteCount > bytesMax)
        {
            string shown = value.Length > 40 ? value[..40] + "..." : value;
            throw new EdgeException(EdgeErrorCode.DocumentKeyInvalid, $"The {what} '{shown}' is {byteCount} UTF-8 bytes; the limit is {bytesMax}.");
        }
    }

    private static void WriteBytes(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteVarInt(output, (ulong)bytes.Length);
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    private static void WriteVarInt(ArrayBufferWriter<byte> output, ulong value)
    {
        int written = VarInt.Write(output.GetSpan(VarInt.UInt64BytesMax), value);
        output.Advance(written);
    }

    // Two-byte LEB128 (values < 16384) written into a reserved slot; a one-byte value is written as
    // the padded two-byte form (0x80|low, high), which the decoder reads as the same number.
    private static void WritePaddedCount(Span<byte> slot, int count)
    {
        slot[0] = (byte)((count & 0x7F) | 0x80);
        slot[1] = (byte)(count >> 7);
    }

    /// <summary>Bounds-checked cursor over an encoding; every failure names the location and offset.</summary>
    internal ref struct SpanReader
    {
        private readonly ReadOnlySpan<byte> _source;
        private readonly string? _location;
        private readonly long _lsn;
        private int _offset;

        public SpanReader(ReadOnlySpan<byte> source, string location)
        {
            _source = source;
            _location = location;
            _offset = 0;
        }

        /// <summary>A reader of the WAL record at <paramref name="lsn"/>: the location text is formatted only for an error.</summary>
        public SpanReader(ReadOnlySpan<byte> source, long lsn)
        {
            _source = source;
            _lsn = lsn;
            _offset = 0;
        }

        public readonly string Location => _location ?? $"WAL LSN {_lsn}";

        public readonly int Offset => _offset;

        public readonly EdgeCorruptionException Error(string detail) =>
            new(EdgeErrorCode.DocumentMalformed, $"{Location}, body offset {_offset}", $"Document encoding is malformed: {detail}");

        public byte ReadByte()
        {
            if (_offset >= _source.Length)
            {
                throw Error("unexpected end");
            }

            return _source[_offset++];
        }

        public ulong ReadUInt64()
        {
            if (_source.Length - _offset < sizeof(ulong))
            {
                throw Error("unexpected end in a 64-bit field");
            }

            ulong value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_source[_offset..]);
            _offset += sizeof(ulong);
            return value;
        }

        public ulong ReadVarInt()
        {
            if (!VarInt.TryRead(_source[_offset..], out ulong value, out int read))
            {
                throw Error("truncated or oversized variable-length integer");
            }

            _offset += read;
            return value;
        }

        public int ReadCount(int countMax, string what)
        {
            ulong count = ReadVarInt();
            if (count > (ulong)countMax)
            {
                throw Error($"{what} {count} exceeds the limit of {countMax}");
            }

            // Every counted item takes at least one byte: reject impossible counts before allocating.
            if (count > (ulong)(_source.Length - _offset))
            {
                throw Error($"{what} {count} cannot fit in the remaining {_source.Length - _offset} bytes");
            }

            return (int)count;
        }

        public ReadOnlySpan<byte> ReadBytes(int lengthMax, string what)
        {
            ulong length = ReadVarInt();
            if (length > (ulong)lengthMax)
            {
                throw Error($"{what} length {length} exceeds the limit of {lengthMax}");
            }

            if (length > (ulong)(_source.Length - _offset))
            {
                throw Error($"{what} length {length} runs past the end");
            }

            ReadOnlySpan<byte> bytes = _source.Slice(_offset, (int)length);
            _offset += (int)length;
            return bytes;
        }

        public string ReadString(int lengthMax, string what, bool allowEmpty)
        {
            ReadOnlySpan<byte> bytes = ReadBytes(lengthMax, what);
            if (bytes.IsEmpty && !allowEmpty)
            {
                throw Error($"empty {what}");
            }

            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException exception)
            {
                throw new EdgeCorruptionException(EdgeErrorCode.DocumentMalformed, $"{Location}, body offset {_offset}", $"Document encoding is malformed: {what} is not valid UTF-8", exception);
            }
        }

        public readonly void CheckJson(ReadOnlySpan<byte> value, string field)
        {
            try
            {
                var json = new Utf8JsonReader(value, isFinalBlock: true, state: default);
                if (!json.Read())
                {
                    throw Error($"field '{field}' holds no JSON value");
                }

                json.Skip();
                if (json.Read())
                {
                    throw Error($"field '{field}' holds more than one JSON value");
                }
            }
            catch (JsonException exception)
            {
                throw new EdgeCorruptionException(EdgeErrorCode.DocumentMalformed, $"{Location}, body offset {_offset}", $"Document encoding is malformed: field '{field}' is not valid JSON", exception);
            }
        }

        public readonly void CheckCrdtField(ReadOnlySpan<byte> value, string field)
        {
            try
            {
                DocumentCrdtField.Decode(value);
            }
            catch (EdgeException exception) when (exception.Code == EdgeErrorCode.CrdtMalformed)
            {
                throw new EdgeCorruptionException(EdgeErrorCode.DocumentMalformed, $"{Location}, body offset {_offset}", $"Document encoding is malformed: CRDT field '{field}': {exception.Message}", exception);
            }
        }

        public readonly void CheckEnd()
        {
            if (_offset != _source.Length)
            {
                throw Error($"{_source.Length - _offset} trailing bytes");
            }
        }
    }
}
