using CortexEdge.Core;
using CortexEdge.Core.Documents;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// Anti-entropy over one collection of an <see cref="EdgeDatabase"/>: each visible document is an
/// item hashed from its key, its canonical JSON (fields in ordinal order, as the database renders
/// them) and its HLC last-change time. Deleted documents are absent, so a tombstone on one side
/// and no document on the other agree.
/// </summary>
public sealed class EdgeCollectionSource : IAntiEntropySource
{
    private readonly EdgeDatabase _database;

    /// <summary>Creates a source over <paramref name="collection"/> of <paramref name="database"/>.</summary>
    public EdgeCollectionSource(EdgeDatabase database, string collection)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(collection);
        _database = database;
        Collection = collection;
    }

    /// <summary>The collection read.</summary>
    public string Collection { get; }

    /// <summary>Scans the collection (a consistent read that never blocks writers).</summary>
    public IEnumerable<AntiEntropyItem> ReadItems()
    {
        foreach (EdgeDocument document in _database.Scan(Collection))
        {
            yield return AntiEntropyItem.Create(document.Key, document.Utf8Json.Span, document.LastChange.Time);
        }
    }
}
