using System.Runtime.InteropServices;
using CortexEdge.Core.Documents;
using CortexEdge.Core.Vectors;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>
/// Vector collections: id -> float32 vector + document key, searched by nearest neighbour on an
/// int8-quantized index with exact float32 rescoring (see <see cref="VectorCollection"/>). Every
/// write is one <see cref="WalRecordKind.Vector"/> WAL record, so sync carries vectors like documents.
/// </summary>
public sealed partial class EdgeDatabase
{
    /// <summary>Folder inside the database directory that holds the vector collections' float32 files.</summary>
    public const string VectorDirectoryName = "vectors";

    private VectorStateModule? _vectors;

    /// <summary>
    /// Creates the vector collection <paramref name="collection"/> with a fixed dimension and metric.
    /// Creating a collection that exists with the same shape is a no-op op (still logged).
    /// </summary>
    /// <exception cref="EdgeException">
    /// <see cref="EdgeErrorCode.VectorInvalid"/> (bad name, dimension outside 1..<see cref="VectorCollectionOptions.DimensionMax"/>,
    /// unknown metric); <see cref="EdgeErrorCode.VectorCollectionMismatch"/> when it exists with another shape;
    /// DatabaseFaulted, WalQuotaExceeded, DiskFull.
    /// </exception>
    public ValueTask<WriteReceipt> CreateVectorCollectionAsync(string collection, int dimension, VectorMetric metric = VectorMetric.Cosine, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        VectorCodec.ValidateName(collection, "collection name", DocumentLimits.CollectionNameBytesMax);
        new VectorCollectionOptions { Dimension = dimension, Metric = metric }.Validate();
        if (VectorModule.Find(collection) is { } existing && (existing.Dimension != dimension || existing.Metric != metric))
        {
            throw new EdgeException(EdgeErrorCode.VectorCollectionMismatch,
                $"Vector collection '{collection}' exists with dimension {existing.Dimension} and metric {existing.Metric}; asked for {dimension} and {metric}.");
        }

        var buffer = RentEncodeBuffer();
        VectorCodec.EncodeCreateCollection(buffer, collection, dimension, metric);
        WriteReceipt receipt = AppendOperation(WalRecordKind.Vector, MemoryMarshal.AsMemory(buffer.WrittenMemory).Span);
        return CompleteWriteAsync(receipt, cancellationToken);
    }

    /// <summary>
    /// Inserts or replaces vector <paramref name="id"/> of <paramref name="collection"/>, linked to the
    /// document <paramref name="documentKey"/>. Visible to searches when the call returns; completes once
    /// acknowledged in the database's durability mode. Concurrent writes of one id (here or on other
    /// replicas) resolve last-writer-wins by HLC.
    /// </summary>
    /// <exception cref="EdgeException">
    /// <see cref="EdgeErrorCode.VectorCollectionNotFound"/>; <see cref="EdgeErrorCode.VectorInvalid"/> (wrong length, NaN or
    /// infinity, zero vector under cosine, empty or too long id or key); DatabaseFaulted, WalQuotaExceeded, DiskFull.
    /// </exception>
    public ValueTask<WriteReceipt> UpsertVectorAsync(string collection, string id, ReadOnlySpan<float> vector, string documentKey, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        VectorCollection index = RequireVectorCollection(collection);
        VectorCodec.ValidateName(id, "vector id", VectorCodec.IdBytesMax);
        VectorCodec.ValidateName(documentKey, "document key", DocumentLimits.KeyBytesMax);
        index.Validate(vector, $"vector '{id}'");
        var buffer = RentEncodeBuffer();
        VectorCodec.EncodeUpsert(buffer, collection, id, documentKey, index.Metric, vector);
        WriteReceipt receipt = AppendOperation(WalRecordKind.Vector, MemoryMarshal.AsMemory(buffer.WrittenMemory).Span);
        return CompleteWriteAsync(receipt, cancellationToken);
    }

    /// <summary>Deletes vector <paramref name="id"/> (a tombstone; deleting an absent id is not an error).</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VectorCollectionNotFound"/>, VectorInvalid (bad id), DatabaseFaulted, WalQuotaExceeded, DiskFull.</exception>
    public ValueTask<WriteReceipt> DeleteVectorAsync(string collection, string id, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        RequireVectorCollection(collection);
        VectorCodec.ValidateName(id, "vector id", VectorCodec.IdBytesMax);
        var buffer = RentEncodeBuffer();
        VectorCodec.EncodeDelete(buffer, collection, id);
        WriteReceipt receipt = AppendOperation(WalRecordKind.Vector, MemoryMarshal.AsMemory(buffer.WrittenMemory).Span);
        return CompleteWriteAsync(receipt, cancellationToken);
    }

    /// <summary>A copy of vector <paramref name="id"/>, or null when absent or deleted. Sees every write that returned.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VectorCollectionNotFound"/>.</exception>
    public VectorRecord? GetVector(string collection, string id)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(id);
        VectorCollection index = RequireVectorCollection(collection);
        float[] vector = new float[index.Dimension];
        return index.TryGet(id, vector, out string? documentKey) ? new VectorRecord(id, vector, documentKey) : null;
    }

    /// <summary>
    /// The (up to) <paramref name="k"/> vectors of <paramref name="collection"/> nearest to
    /// <paramref name="query"/>, ascending by exact distance, filtered by <paramref name="options"/>
    /// (key prefix, caller predicate). Sees every write that returned before the call.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VectorCollectionNotFound"/>; <see cref="EdgeErrorCode.VectorInvalid"/> for a malformed query.</exception>
    public VectorMatch[] SearchVectors(string collection, ReadOnlySpan<float> query, int k, VectorSearchOptions? options = null)
    {
        ThrowIfDisposed();
        return RequireVectorCollection(collection).Search(query, k, options);
    }

    /// <summary>
    /// Like <see cref="SearchVectors(string, ReadOnlySpan{float}, int, VectorSearchOptions?)"/>, keeping only
    /// vectors whose document (key = the vector's document key, in <paramref name="documentCollection"/>)
    /// exists and satisfies every filter in <paramref name="documentFilters"/> (for example a field equality).
    /// Documents are read only for candidates that would enter the result, not for every vector.
    /// </summary>
    /// <exception cref="EdgeException">As for the overload without filters.</exception>
    public VectorMatch[] SearchVectors(
        string collection, ReadOnlySpan<float> query, int k, string documentCollection, IReadOnlyList<DocumentFilter> documentFilters, VectorSearchOptions? options = null)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(documentFilters);
        DocumentCodec.ValidateName(documentCollection, "collection name", DocumentLimits.CollectionNameBytesMax);
        VectorCollection index = RequireVectorCollection(collection);
        Func<string, bool>? callerPredicate = options?.DocumentPredicate;
        bool Predicate(string documentKey)
        {
            if (callerPredicate is not null && !callerPredicate(documentKey))
            {
                return false;
            }

            EdgeDocument? document = _documents.Get(documentCollection, documentKey);
            if (document is null)
            {
                return false;
            }

            using System.Text.Json.JsonDocument json = document.Parse();
            foreach (DocumentFilter filter in documentFilters)
            {
                if (!filter.Matches(json.RootElement))
                {
                    return false;
                }
            }

            return true;
        }

        var filtered = new VectorSearchOptions
        {
            Nprobe = options?.Nprobe ?? 0,
            Oversample = options?.Oversample ?? 0,
            KeyPrefix = options?.KeyPrefix,
            MaxDegreeOfParallelism = options?.MaxDegreeOfParallelism ?? -1,
            DocumentPredicate = Predicate,
        };
        return index.Search(query, k, filtered);
    }

    /// <summary>Names of the vector collections, in ordinal order.</summary>
    public IReadOnlyList<string> GetVectorCollectionNames()
    {
        ThrowIfDisposed();
        return VectorModule.Names();
    }

    /// <summary>Size and shape of a vector collection.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VectorCollectionNotFound"/>.</exception>
    public VectorCollectionStatistics GetVectorCollectionStatistics(string collection)
    {
        ThrowIfDisposed();
        return RequireVectorCollection(collection).GetStatistics();
    }

    /// <summary>
    /// At a clean close, once the WAL is flushed and closed: saves the vector index files so the next
    /// open maps them. Skipped when faulted or when the log holds records not yet durable, because an
    /// index file must never describe a write the log could lose.
    /// </summary>
    private void SaveVectorIndexFiles()
    {
        if (Volatile.Read(ref _fault) is null && _wal.DurableLsn >= _wal.LastLsn)
        {
            _vectors?.SaveIndexFiles(_store.CheckpointLsn);
        }
    }

    private VectorStateModule VectorModule => _vectors ?? throw new InvalidOperationException("the vector module is created with the database");

    private VectorStateModule CreateVectorModule() => _vectors = new VectorStateModule(Path.Combine(Directory, VectorDirectoryName));

    private VectorCollection RequireVectorCollection(string collection)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return VectorModule.Find(collection)
            ?? throw new EdgeException(EdgeErrorCode.VectorCollectionNotFound, $"There is no vector collection '{collection}'; create it with CreateVectorCollectionAsync.");
    }
}
