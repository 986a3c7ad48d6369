namespace CortexEdge.Core.Documents;

/// <summary>What a document operation does.</summary>
public enum DocumentOperationKind : byte
{
    /// <summary>Replaces the whole document: fields older than the op disappear.</summary>
    Put = 1,

    /// <summary>Sets or removes the listed fields (top-level JSON merge patch); other fields stay.</summary>
    Patch = 2,

    /// <summary>Removes the document (a tombstone that wins over older fields).</summary>
    Delete = 3,

    /// <summary>Merges CRDT field deltas (counters, sets, multi-value registers): each field's value is a <see cref="DocumentCrdtField"/> encoding.</summary>
    Crdt = 4,

    /// <summary>A delete of a document with CRDT fields: the tombstone plus deltas that reset what the deleting replica observed.</summary>
    CrdtDelete = 5,

    /// <summary>
    /// Joins a whole document state (every field with its HLC, the put/delete marker, CRDT fields)
    /// into the document: how a sync snapshot carries a document. One field named "" holds the
    /// state's encoding. Idempotent and order-free, like every CRDT merge.
    /// </summary>
    MergeState = 6,
}

/// <summary>
/// One field of a document operation: its name and its new value as UTF-8 JSON, or no value when
/// a patch removes the field.
/// </summary>
/// <param name="Name">The field name (a top-level property of the document).</param>
/// <param name="Utf8JsonValue">The value as UTF-8 JSON text; empty when the field is removed. In
/// <see cref="DocumentOperationKind.Crdt"/> and <see cref="DocumentOperationKind.CrdtDelete"/> ops, the
/// field's CRDT delta instead.</param>
public readonly record struct DocumentField(string Name, ReadOnlyMemory<byte> Utf8JsonValue)
{
    /// <summary>true when the operation removes this field.</summary>
    public bool IsRemoval => Utf8JsonValue.IsEmpty;
}

/// <summary>
/// A decoded document operation (the body of a <see cref="Wal.WalRecordKind.Document"/> record after
/// its <see cref="State.OperationHeader"/>). Immutable.
/// </summary>
public sealed class DocumentOperation
{
    /// <summary>Creates an operation.</summary>
    public DocumentOperation(DocumentOperationKind kind, string collection, string key, IReadOnlyList<DocumentField> fields)
    {
        Kind = kind;
        Collection = collection;
        Key = key;
        Fields = fields;
    }

    /// <summary>Put, patch or delete.</summary>
    public DocumentOperationKind Kind { get; }

    /// <summary>The collection the document belongs to.</summary>
    public string Collection { get; }

    /// <summary>The document's key within its collection.</summary>
    public string Key { get; }

    /// <summary>The fields the op sets (put, patch) or removes (patch); empty for delete.</summary>
    public IReadOnlyList<DocumentField> Fields { get; }

    /// <summary>
    /// Decodes the body of a <see cref="Wal.WalRecordKind.Document"/> op (the part after its
    /// <see cref="State.OperationHeader"/>), as sync carries it. Validates everything the database
    /// would (lengths, UTF-8, JSON values, CRDT deltas, limits).
    /// </summary>
    /// <exception cref="EdgeCorruptionException"><see cref="EdgeErrorCode.DocumentMalformed"/>: the body does not decode.</exception>
    public static DocumentOperation Decode(ReadOnlySpan<byte> body) => DocumentCodec.Decode(body, "document op body");

    /// <summary>
    /// Reads only the collection an encoded document op body belongs to, without decoding the rest
    /// (cheap: for routing and authorization). False when the body does not start like a document op.
    /// </summary>
    public static bool TryReadCollection(ReadOnlySpan<byte> body, out string collection) => DocumentCodec.TryReadCollection(body, out collection);

    /// <summary>
    /// Encodes this op as a <see cref="Wal.WalRecordKind.Document"/> body (what <see cref="Decode"/>
    /// reads), e.g. after leaving out fields that must not leave the device.
    /// </summary>
    /// <exception cref="EdgeException">DocumentKeyInvalid (a name is empty or too long), DocumentTooLarge.</exception>
    public byte[] Encode()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        DocumentCodec.Encode(buffer, this);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A copy of this op without the fields named in <paramref name="fieldNames"/> (ordinal); this op when none of them is present.</summary>
    public DocumentOperation WithoutFields(IReadOnlyCollection<string> fieldNames)
    {
        ArgumentNullException.ThrowIfNull(fieldNames);
        if (fieldNames.Count == 0 || !Fields.Any(field => fieldNames.Contains(field.Name, StringComparer.Ordinal)))
        {
            return this;
        }

        return new DocumentOperation(Kind, Collection, Key, Fields.Where(field => !fieldNames.Contains(field.Name, StringComparer.Ordinal)).ToArray());
    }
}
