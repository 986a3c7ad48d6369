using System.Buffers;
using CortexEdge.Core;
using CortexEdge.Core.Documents;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// Anti-entropy over one collection of an <see cref="EdgeDatabase"/>: each visible document is an
/// item hashed from its key, its canonical JSON (fields in ordinal order, as the database renders
/// them) and its HLC last-change time. Deleted documents are absent, so a tombstone on one side
/// and no document on the other agree. Fields the manifest keeps local are left out of the hash
/// (and of the documents handed out for repair): the leader never holds them, so they must not
/// count as divergence.
/// </summary>
public sealed class EdgeCollectionSource : IAntiEntropyDocumentSource
{
    private readonly EdgeDatabase _database;
    private readonly IReadOnlyCollection<string> _localOnlyFields;

    /// <summary>Creates a source over <paramref name="collection"/> of <paramref name="database"/>.</summary>
    /// <param name="database">The database read.</param>
    /// <param name="collection">The collection compared.</param>
    /// <param name="localOnlyFields">Top-level fields left out of every document (the collection's local-only fields); null for none.</param>
    public EdgeCollectionSource(EdgeDatabase database, string collection, IReadOnlyCollection<string>? localOnlyFields = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(collection);
        _database = database;
        Collection = collection;
        _localOnlyFields = localOnlyFields ?? [];
    }

    /// <summary>The collection read.</summary>
    public string Collection { get; }

    /// <summary>Scans the collection (a consistent read that never blocks writers).</summary>
    public IEnumerable<AntiEntropyItem> ReadItems()
    {
        foreach (EdgeDocument document in _database.Scan(Collection))
        {
            yield return AntiEntropyItem.Create(document.Key, Shared(document.Utf8Json).Span, document.LastChange.Time);
        }
    }

    /// <inheritdoc />
    public AntiEntropyDocument GetDocument(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _database.TryGet(Collection, key, out EdgeDocument? document)
            ? new AntiEntropyDocument(key, true, document.LastChange.Time, Shared(document.Utf8Json))
            : new AntiEntropyDocument(key, false, _database.GetLastChange(Collection, key).Time, ReadOnlyMemory<byte>.Empty);
    }

    private ReadOnlyMemory<byte> Shared(ReadOnlyMemory<byte> utf8Json)
    {
        if (_localOnlyFields.Count == 0)
        {
            return utf8Json;
        }

        var output = new ArrayBufferWriter<byte>(utf8Json.Length);
        ManifestFilter.StripFields(Collection, _localOnlyFields, utf8Json.Span, output);
        return output.WrittenMemory;
    }
}
