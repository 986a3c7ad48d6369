using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using CortexEdge.Core.Documents;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>Documents: collections of JSON objects keyed by string, each field a last-writer-wins register.</summary>
public sealed partial class EdgeDatabase
{
    /// <summary>
    /// Stores <paramref name="document"/> (a JSON object) under <paramref name="key"/>, replacing the
    /// previous version: fields the new version lacks disappear. Completes once acknowledged in the
    /// database's durability mode; visible to reads as soon as the call returns (even before).
    /// </summary>
    /// <exception cref="EdgeException">DocumentInvalid (not an object), DocumentKeyInvalid, DocumentTooLarge, DatabaseFaulted, WalQuotaExceeded, DiskFull.</exception>
    public ValueTask<WriteReceipt> PutAsync(string collection, string key, JsonElement document, CancellationToken cancellationToken = default) =>
        WriteJson(DocumentOperationKind.Put, collection, key, document, cancellationToken);

    /// <summary>Like <see cref="PutAsync(string, string, JsonElement, CancellationToken)"/>, from JSON text.</summary>
    /// <exception cref="EdgeException">DocumentInvalid when <paramref name="json"/> does not parse or is not an object.</exception>
    public ValueTask<WriteReceipt> PutAsync(string collection, string key, string json, CancellationToken cancellationToken = default)
    {
        using JsonDocument parsed = ParseDocument(collection, key, json);
        return PutAsync(collection, key, parsed.RootElement, cancellationToken);
    }

    /// <summary>
    /// Sets the fields of <paramref name="patch"/> (a JSON object) on the document, keeping its other
    /// fields; a field whose value is null is removed (top-level JSON merge patch). Creates the document
    /// when absent. Each field is its own last-writer-wins register, so concurrent patches of different
    /// fields on different replicas both survive.
    /// </summary>
    /// <exception cref="EdgeException">As for <see cref="PutAsync(string, string, JsonElement, CancellationToken)"/>.</exception>
    public ValueTask<WriteReceipt> PatchAsync(string collection, string key, JsonElement patch, CancellationToken cancellationToken = default) =>
        WriteJson(DocumentOperationKind.Patch, collection, key, patch, cancellationToken);

    /// <summary>Like <see cref="PatchAsync(string, string, JsonElement, CancellationToken)"/>, from JSON text.</summary>
    public ValueTask<WriteReceipt> PatchAsync(string collection, string key, string json, CancellationToken cancellationToken = default)
    {
        using JsonDocument parsed = ParseDocument(collection, key, json);
        return PatchAsync(collection, key, parsed.RootElement, cancellationToken);
    }

    /// <summary>Deletes the document (a tombstone: older fields, here or arriving later from sync, stay hidden). Deleting an absent key is not an error. CRDT fields (counters, sets, multi-value registers) are reset to nothing of what this replica observed; concurrent updates elsewhere survive (docs/crdt.md).</summary>
    /// <exception cref="EdgeException">DocumentKeyInvalid, DatabaseFaulted, WalQuotaExceeded, DiskFull.</exception>
    public ValueTask<WriteReceipt> DeleteAsync(string collection, string key, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (TryDeleteWithCrdtFields(collection, key, out WriteReceipt crdtDelete))
        {
            return CompleteWriteAsync(crdtDelete, cancellationToken);
        }

        ArrayBufferWriter<byte> buffer = RentEncodeBuffer();
        DocumentCodec.EncodeDelete(buffer, collection, key);
        return AppendEncoded(WalRecordKind.Document, buffer, cancellationToken);
    }

    /// <summary>The document under <paramref name="key"/>, or null when absent or deleted. Sees every write that returned.</summary>
    /// <exception cref="EdgeCorruptionException">The stored state does not decode.</exception>
    public EdgeDocument? Get(string collection, string key)
    {
        ThrowIfDisposed();
        DocumentCodec.ValidateName(collection, "collection name", DocumentLimits.CollectionNameBytesMax);
        DocumentCodec.ValidateName(key, "document key", DocumentLimits.KeyBytesMax);
        return _documents.Get(collection, key);
    }

    /// <summary>
    /// The HLC of the last op that touched the document under <paramref name="key"/> — a delete
    /// included, so a tombstone answers with the time of the delete — or <see cref="Clocks.HlcTimestamp.Zero"/>
    /// when no op ever touched it here. Anti-entropy repair uses it to tell "deleted later" from "never had it".
    /// </summary>
    public Clocks.HlcTimestamp GetLastChange(string collection, string key)
    {
        ThrowIfDisposed();
        DocumentCodec.ValidateName(collection, "collection name", DocumentLimits.CollectionNameBytesMax);
        DocumentCodec.ValidateName(key, "document key", DocumentLimits.KeyBytesMax);
        return _documents.GetLastChange(collection, key);
    }

    /// <summary>Like <see cref="Get"/>; returns false when the document is absent or deleted.</summary>
    public bool TryGet(string collection, string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EdgeDocument? document)
    {
        document = Get(collection, key);
        return document is not null;
    }

    /// <summary>
    /// The documents of <paramref name="collection"/> that match <paramref name="query"/> (all when
    /// null), in key order (Unicode code point order). Lazy: enumerate it to completion or dispose the
    /// enumerator, which holds a SQLite read connection (it never blocks writers or the checkpointer).
    /// Sees every write that returned before the call.
    /// </summary>
    public IEnumerable<EdgeDocument> Scan(string collection, DocumentQuery? query = null)
    {
        ThrowIfDisposed();
        DocumentCodec.ValidateName(collection, "collection name", DocumentLimits.CollectionNameBytesMax);
        return _documents.Scan(collection, query ?? new DocumentQuery());
    }

    private ValueTask<WriteReceipt> WriteJson(DocumentOperationKind kind, string collection, string key, JsonElement document, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        ValidateLwwFields(collection, key, document);
        ArrayBufferWriter<byte> buffer = RentEncodeBuffer();
        DocumentCodec.EncodeFromJson(buffer, kind, collection, key, document);
        return AppendEncoded(WalRecordKind.Document, buffer, cancellationToken);
    }

    private static JsonDocument ParseDocument(string collection, string key, string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException exception)
        {
            throw new EdgeException(EdgeErrorCode.DocumentInvalid,
                $"Document '{key}' in collection '{collection}' is not valid JSON: {exception.Message}", exception);
        }
    }
}
