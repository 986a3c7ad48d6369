using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json;
using CortexEdge.Core.Documents;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>
/// Document fields that are CRDTs other than last-writer-wins registers: counters, sets and
/// multi-value registers, declared per collection (<see cref="DeclareCollection"/>). Each write
/// reads the field's current state, computes the CRDT delta and appends it as one WAL op, all under
/// the write lock, so concurrent local writers never lose an update; sync ships the delta as is.
/// </summary>
public sealed partial class EdgeDatabase
{
    private static readonly DocumentFieldType[] s_counterTypes = [DocumentFieldType.GCounter, DocumentFieldType.PnCounter];
    private static readonly DocumentFieldType[] s_setTypes = [DocumentFieldType.OrSet, DocumentFieldType.AddWinsSet];
    private static readonly DocumentFieldType[] s_registerTypes = [DocumentFieldType.MvRegister];

    private readonly ConcurrentDictionary<string, CollectionSchema> _schemas = new(StringComparer.Ordinal);

    /// <summary>
    /// Declares the CRDT type of fields of a collection (fields not named stay last-writer-wins
    /// registers). Declare before writing; every replica must declare the same types. Declaring the
    /// same schema again is a no-op. Thread-safe.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtFieldTypeMismatch"/> when the collection was declared with other types.</exception>
    public void DeclareCollection(CollectionSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ThrowIfDisposed();
        DocumentCodec.ValidateName(schema.Collection, "collection name", DocumentLimits.CollectionNameBytesMax);
        CollectionSchema existing = _schemas.GetOrAdd(schema.Collection, schema);
        if (!ReferenceEquals(existing, schema) && !existing.SameAs(schema))
        {
            throw new EdgeException(EdgeErrorCode.CrdtFieldTypeMismatch,
                $"Collection '{schema.Collection}' is already declared with other field types ({Describe(existing)}); a schema cannot change while the database is open.");
        }
    }

    /// <summary>The declared schema of <paramref name="collection"/> (an empty one, all fields LWW, when none was declared).</summary>
    public CollectionSchema GetCollectionSchema(string collection) =>
        _schemas.TryGetValue(collection, out CollectionSchema? schema) ? schema : new CollectionSchema(collection, new Dictionary<string, DocumentFieldType>());

    /// <summary>
    /// Adds <paramref name="amount"/> to a counter field (G-Counter: positive amounts only; PN-Counter:
    /// any). Concurrent increments on any replicas all count. Creates the document when absent.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtFieldTypeMismatch"/> (not a counter field), <see cref="EdgeErrorCode.CrdtCounterOverflow"/>, and the write errors of <see cref="PutAsync(string, string, JsonElement, CancellationToken)"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A G-Counter field gets an amount below 1.</exception>
    public ValueTask<WriteReceipt> IncrementAsync(string collection, string key, string field, long amount, CancellationToken cancellationToken = default) =>
        WriteCrdtField(collection, key, field, s_counterTypes, current =>
        {
            if (current.Type == DocumentFieldType.GCounter)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(amount, 1, nameof(amount));
            }

            return current.Increment(ReplicaId, amount);
        }, cancellationToken);

    /// <summary>
    /// Adds a JSON value (e.g. <c>"\"milk\""</c>, <c>"42"</c>) to a set field. An add concurrent with
    /// a remove of the same element wins. Elements compare by their compact JSON text.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.DocumentInvalid"/> (not one JSON value), <see cref="EdgeErrorCode.CrdtFieldTypeMismatch"/> (not a set field), and the write errors.</exception>
    public ValueTask<WriteReceipt> AddToSetAsync(string collection, string key, string field, string elementJson, CancellationToken cancellationToken = default)
    {
        byte[] element = CompactJson(collection, key, field, elementJson);
        return WriteCrdtField(collection, key, field, s_setTypes, current => current.Add(ReplicaId, element), cancellationToken);
    }

    /// <summary>Removes a JSON value from a set field: the adds this replica has observed; a concurrent add elsewhere survives.</summary>
    /// <exception cref="EdgeException">As for <see cref="AddToSetAsync"/>.</exception>
    public ValueTask<WriteReceipt> RemoveFromSetAsync(string collection, string key, string field, string elementJson, CancellationToken cancellationToken = default)
    {
        byte[] element = CompactJson(collection, key, field, elementJson);
        return WriteCrdtField(collection, key, field, s_setTypes, current => current.Remove(element), cancellationToken);
    }

    /// <summary>
    /// Writes a multi-value register field: the value replaces every sibling this replica has seen;
    /// writes concurrent with it on other replicas are kept beside it as siblings
    /// (<see cref="GetSiblings"/>) until a later write resolves them.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.DocumentInvalid"/> (not one JSON value), <see cref="EdgeErrorCode.CrdtFieldTypeMismatch"/> (not a multi-value field), and the write errors.</exception>
    public ValueTask<WriteReceipt> WriteRegisterAsync(string collection, string key, string field, string valueJson, CancellationToken cancellationToken = default)
    {
        byte[] value = CompactJson(collection, key, field, valueJson);
        return WriteCrdtField(collection, key, field, s_registerTypes, current => current.Write(ReplicaId, value), cancellationToken);
    }

    /// <summary>
    /// The current values of a multi-value register field as JSON texts: one when there is no
    /// conflict, several after concurrent writes (the document's JSON shows the greatest in byte
    /// order), none when never written. Resolve by <see cref="WriteRegisterAsync"/>.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtFieldTypeMismatch"/> when the field holds another CRDT.</exception>
    public IReadOnlyList<string> GetSiblings(string collection, string key, string field)
    {
        ThrowIfDisposed();
        DocumentCodec.ValidateName(collection, "collection name", DocumentLimits.CollectionNameBytesMax);
        DocumentCodec.ValidateName(key, "document key", DocumentLimits.KeyBytesMax);
        DocumentCrdtField? state = _documents.GetState(collection, key)?.GetCrdtField(field);
        if (state is null)
        {
            return [];
        }

        if (state.Type != DocumentFieldType.MvRegister)
        {
            throw new EdgeException(EdgeErrorCode.CrdtFieldTypeMismatch, $"Field '{field}' of '{key}' in collection '{collection}' is a {state.Type}, not a multi-value register.");
        }

        return [.. state.Siblings.Select(v => System.Text.Encoding.UTF8.GetString(v))];
    }

    /// <summary>
    /// The delete rule for documents with CRDT fields: one op that tombstones the LWW fields (as a
    /// plain delete) and resets each CRDT field to nothing of what this replica observed. Returns
    /// false (nothing written) when the document has no CRDT field state, for the plain delete.
    /// </summary>
    private bool TryDeleteWithCrdtFields(string collection, string key, out WriteReceipt receipt)
    {
        DocumentCodec.ValidateName(collection, "collection name", DocumentLimits.CollectionNameBytesMax);
        DocumentCodec.ValidateName(key, "document key", DocumentLimits.KeyBytesMax);
        lock (_writeLock)
        {
            DocumentState? state = _documents.GetState(collection, key);
            if (state is null || !state.HasCrdtFields)
            {
                receipt = default;
                return false;
            }

            var resets = new List<(string Name, byte[] Delta)>();
            foreach (KeyValuePair<string, DocumentCrdtField> field in state.CrdtFields)
            {
                if (field.Value.Reset(ReplicaId) is { } reset)
                {
                    resets.Add((field.Key, reset.Encode()));
                }
            }

            ArrayBufferWriter<byte> buffer = RentEncodeBuffer();
            DocumentCodec.EncodeCrdt(buffer, DocumentOperationKind.CrdtDelete, collection, key, resets);
            receipt = AppendOperation(WalRecordKind.Document, MemoryMarshal.AsMemory(buffer.WrittenMemory).Span);
            return true;
        }
    }

    /// <summary>Rejects a put or patch that names a field the collection declares as another CRDT.</summary>
    private void ValidateLwwFields(string collection, string key, JsonElement document)
    {
        if (!_schemas.TryGetValue(collection, out CollectionSchema? schema) || schema.Fields.Count == 0 || document.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (JsonProperty property in document.EnumerateObject())
        {
            DocumentFieldType type = schema.TypeOf(property.Name);
            if (type != DocumentFieldType.LwwRegister)
            {
                string use = type switch
                {
                    DocumentFieldType.GCounter or DocumentFieldType.PnCounter => nameof(IncrementAsync),
                    DocumentFieldType.MvRegister => nameof(WriteRegisterAsync),
                    _ => $"{nameof(AddToSetAsync)}/{nameof(RemoveFromSetAsync)}",
                };
                throw new EdgeException(EdgeErrorCode.CrdtFieldTypeMismatch,
                    $"Field '{property.Name}' of '{key}' in collection '{collection}' is declared {type}; put and patch write only LWW fields (use {use}).");
            }
        }
    }

    private ValueTask<WriteReceipt> WriteCrdtField(string collection, string key, string field, DocumentFieldType[] allowed, Func<DocumentCrdtField, DocumentCrdtField> mutate, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(field);
        DocumentCodec.ValidateName(collection, "collection name", DocumentLimits.CollectionNameBytesMax);
        DocumentCodec.ValidateName(key, "document key", DocumentLimits.KeyBytesMax);
        DocumentFieldType declared = GetCollectionSchema(collection).TypeOf(field);
        if (Array.IndexOf(allowed, declared) < 0)
        {
            throw new EdgeException(EdgeErrorCode.CrdtFieldTypeMismatch,
                $"Field '{field}' of collection '{collection}' is declared {declared}; this operation needs a {string.Join(" or ", allowed)} field (DeclareCollection).");
        }

        WriteReceipt receipt;
        lock (_writeLock)
        {
            // Read, compute the delta and append under one lock: a concurrent local writer cannot
            // compute its delta from the same state (which would lose an increment).
            DocumentCrdtField current = _documents.GetState(collection, key)?.GetCrdtField(field) ?? DocumentCrdtField.Create(declared);
            if (current.Type != declared)
            {
                throw new EdgeException(EdgeErrorCode.CrdtFieldTypeMismatch,
                    $"Field '{field}' of '{key}' in collection '{collection}' holds a {current.Type} but is declared {declared}.");
            }

            DocumentCrdtField delta = mutate(current);
            ArrayBufferWriter<byte> buffer = RentEncodeBuffer();
            DocumentCodec.EncodeCrdt(buffer, DocumentOperationKind.Crdt, collection, key, [(field, delta.Encode())]);
            receipt = AppendOperation(WalRecordKind.Document, MemoryMarshal.AsMemory(buffer.WrittenMemory).Span);
        }

        return CompleteWriteAsync(receipt, cancellationToken);
    }

    private static byte[] CompactJson(string collection, string key, string field, string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using JsonDocument parsed = JsonDocument.Parse(json);
            var buffer = new ArrayBufferWriter<byte>(json.Length + 8);
            // Relaxed escaping keeps the text as written ("a+b" stays "a+b"); the output is stored JSON, never HTML.
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                parsed.RootElement.WriteTo(writer);
            }

            return buffer.WrittenSpan.ToArray();
        }
        catch (JsonException exception)
        {
            throw new EdgeException(EdgeErrorCode.DocumentInvalid, $"Value for field '{field}' of '{key}' in collection '{collection}' is not one JSON value: {exception.Message}", exception);
        }
    }

    private static string Describe(CollectionSchema schema) =>
        string.Join(", ", schema.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}: {f.Value}"));
}
