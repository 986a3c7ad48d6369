using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CortexEdge.Core.Clocks;

namespace CortexEdge.Core.Vectors;

/// <summary>
/// A collection of fixed-dimension float32 vectors, each with a string id and the key of the
/// document it belongs to, searchable by nearest neighbour under one <see cref="VectorMetric"/>.
/// </summary>
/// <remarks>
/// <para>
/// Search is two-stage: every probed vector is scored on int8 codes (per-vector scale, residual from
/// its partition's centroid, see <see cref="ScalarQuantizer"/>), optionally after a 1-bit Hamming
/// pass; the best <c>k * oversample</c> are rescored exactly with the float32 vectors, which live
/// in a memory-mapped file (<see cref="VectorFile"/>), not on the managed heap. Below
/// <see cref="VectorCollectionOptions.PartitionThreshold"/> vectors the index is one flat partition
/// (every vector is scored); above it, k-means partitions are trained and a search scores only the
/// nearest <c>nprobe</c>. Training reruns each time the count doubles, inside the upsert that
/// crosses the mark (that upsert takes longer), or on <see cref="Retrain"/>.
/// </para>
/// <para>
/// Thread safety: all members may be called concurrently. Searches run in parallel with each other;
/// upserts, deletes and training are exclusive. One search may itself use several cores
/// (<see cref="VectorSearchOptions.MaxDegreeOfParallelism"/>).
/// </para>
/// </remarks>
public sealed partial class VectorCollection : IDisposable
{
    /// <summary>Largest k a search accepts.</summary>
    public const int KMax = 10_000;

    private const int TrainCountMin = 256;
    private const int BlockSize = 8192;
    private const int ParallelScanMin = 32_768;
    private const int SamplesPerCentroid = 32;
    private const int KMeansIterations = 10;
    private const int SignOversample = 8;
    private const int CandidatesMin = 32;
    private const int ScanChunk = 64;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly VectorCollectionOptions _options;
    private readonly VectorFile _file;
    private readonly VectorIdMap _idMap = new();
    private readonly Stack<int> _freeSlots = new();
    private readonly float[] _scratch;
    private readonly float[] _zeros;
    private readonly bool _signCodes;
    // Document keys that differ from their vector's id, by slot; a key equal to its id (the default)
    // takes nothing, where a key per slot would take a reference (8 bytes) for every vector.
    private readonly Dictionary<int, string> _otherKeys = [];
    private int _slotHigh;
    private VectorPartition[] _partitions;
    private float[] _centroids;
    private int _trainedCount;
    private bool _trainingSuspended;
    private bool _disposed;

    private VectorCollection(string name, VectorFile file, VectorCollectionOptions options)
    {
        Name = name;
        _file = file;
        _options = options;
        _scratch = new float[options.Dimension];
        _zeros = new float[options.Dimension];
        _signCodes = options.SignCodes == VectorSignCodeMode.Enabled
            || (options.SignCodes == VectorSignCodeMode.Auto && options.Dimension >= options.SignCodeDimensionMin);
        _partitions = [new VectorPartition(options.Dimension, _signCodes, 16, identitySlots: true)];
        _centroids = new float[options.Dimension];
    }

    /// <summary>The collection's name (used in error messages).</summary>
    public string Name { get; }

    /// <summary>Components per vector.</summary>
    public int Dimension => _options.Dimension;

    /// <summary>Distance measure.</summary>
    public VectorMetric Metric => _options.Metric;

    /// <summary>Vectors stored.</summary>
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _idMap.Count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>
    /// Set while a caller loads many vectors (for example rebuilding after open), so the index is not
    /// retrained at every doubling on the way; clearing it retrains once if the count calls for it.
    /// </summary>
    internal bool TrainingSuspended
    {
        get => _trainingSuspended;
        set
        {
            _lock.EnterWriteLock();
            try
            {
                _trainingSuspended = value;
                if (!value)
                {
                    MaybeRetrain();
                }
            }
            finally
            {
                _lock.ExitWriteLock();
            }
        }
    }

    /// <summary>
    /// Creates an empty collection whose float32 vectors live in a memory-mapped file at
    /// <paramref name="filePath"/>. An existing file there is replaced: it is a projection that the
    /// owner (the database) refills from its state store.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VectorInvalid"/> for a bad dimension or metric.</exception>
    public static VectorCollection Create(string name, string filePath, VectorCollectionOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        File.Delete(filePath);
        VectorFile file = VectorFile.Open(filePath, options.Dimension);
        return new VectorCollection(name, file, options);
    }

    /// <summary>
    /// Inserts or replaces the vector <paramref name="id"/>. The vector is copied; it is visible to
    /// the next search when this returns.
    /// </summary>
    /// <exception cref="EdgeException">
    /// <see cref="EdgeErrorCode.VectorInvalid"/> when the length differs from <see cref="Dimension"/>, a
    /// component is NaN or infinite, or (cosine) the vector is zero.
    /// </exception>
    public void Upsert(string id, ReadOnlySpan<float> vector, string documentKey) => Upsert(id, vector, documentKey, default);

    /// <summary>
    /// <see cref="Upsert(string, ReadOnlySpan{float}, string)"/> that also records the HLC of the write,
    /// which the database compares for last-writer-wins (<see cref="TryGetVersion"/>).
    /// </summary>
    internal void Upsert(string id, ReadOnlySpan<float> vector, string documentKey, HlcTimestamp version)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(documentKey);
        Validate(vector, $"vector '{id}'");
        Span<byte> buffer = stackalloc byte[VectorCodec.IdBytesMax];
        if (!TryEncodeId(id, buffer, out ReadOnlySpan<byte> idBytes))
        {
            throw new EdgeException(EdgeErrorCode.VectorInvalid, $"vector id '{id}' is not valid UTF-16 or is longer than {VectorCodec.IdBytesMax} UTF-8 bytes (collection '{Name}')");
        }

        _lock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _file.MarkOpen();
            bool replacing = _idMap.TryGet(idBytes, _file, out int slot);
            if (!replacing)
            {
                slot = AllocateSlot();
                _file.SetId(slot, idBytes);
                _idMap.Add(idBytes, slot, _file);
            }

            if (string.Equals(documentKey, id, StringComparison.Ordinal))
            {
                _otherKeys.Remove(slot);
            }
            else
            {
                _otherKeys[slot] = documentKey;
            }
            _file.Write(slot, vector);
            _file.SetVersion(slot, version);
            if (replacing)
            {
                ReplaceInPartition(slot, vector);
            }
            else
            {
                AddToPartition(slot, vector);
            }

            MaybeRetrain();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>The HLC recorded with vector <paramref name="id"/>; false when there is no such vector.</summary>
    internal bool TryGetVersion(string id, out HlcTimestamp version)
    {
        _lock.EnterReadLock();
        try
        {
            if (TryFindSlot(id, out int slot))
            {
                version = _file.GetVersion(slot);
                return true;
            }

            version = default;
            return false;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Removes the vector <paramref name="id"/>; false when there was none.</summary>
    public bool Delete(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        Span<byte> buffer = stackalloc byte[VectorCodec.IdBytesMax];
        _lock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!TryEncodeId(id, buffer, out ReadOnlySpan<byte> idBytes) || !_idMap.TryGet(idBytes, _file, out int slot))
            {
                return false;
            }

            _file.MarkOpen();
            _idMap.Remove(idBytes, _file);
            _otherKeys.Remove(slot);
            if (_partitions[0].Slots is null)
            {
                RemoveKeepingIdentitySlots(slot);
                return true;
            }

            RemoveFromPartition(slot);
            _file.ClearId(slot);
            _file.SetVersion(slot, default);
            _freeSlots.Push(slot);
            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>True when a vector <paramref name="id"/> is stored.</summary>
    public bool Contains(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        _lock.EnterReadLock();
        try
        {
            return TryFindSlot(id, out _);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// Copies vector <paramref name="id"/> into <paramref name="destination"/> (at least
    /// <see cref="Dimension"/> long). False, with nothing written, when there is no such vector.
    /// </summary>
    public bool TryGet(string id, Span<float> destination, [NotNullWhen(true)] out string? documentKey)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (destination.Length < Dimension)
        {
            throw new ArgumentException($"destination holds {destination.Length} floats; the collection's dimension is {Dimension}", nameof(destination));
        }

        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!TryFindSlot(id, out int slot))
            {
                documentKey = null;
                return false;
            }

            _file.Read(slot).CopyTo(destination);
            documentKey = _otherKeys.TryGetValue(slot, out string? otherKey) ? otherKey : id;
            return true;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>A copy of vector <paramref name="id"/>.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VectorNotFound"/> when there is none.</exception>
    public VectorRecord Get(string id)
    {
        float[] vector = new float[Dimension];
        if (!TryGet(id, vector, out string? documentKey))
        {
            throw new EdgeException(EdgeErrorCode.VectorNotFound, $"vector '{id}' is not in collection '{Name}'");
        }

        return new VectorRecord(id, vector, documentKey);
    }

    /// <summary>
    /// The (up to) <paramref name="k"/> stored vectors nearest to <paramref name="query"/> that pass
    /// the filters, in ascending exact distance. Fewer than k come back when fewer match among the
    /// probed partitions. Approximate: a true neighbour can be missed when its quantized distance
    /// ranks it below <c>k * oversample</c> others, or (partitioned) when it lies outside the probed
    /// partitions; docs/vectors.md states the measured recall.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VectorInvalid"/> for a malformed query vector.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside 1..<see cref="KMax"/>.</exception>
    public VectorMatch[] Search(ReadOnlySpan<float> query, int k, VectorSearchOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, KMax);
        options ??= VectorSearchOptions.Default;
        Validate(query, "query vector");
        float[] prepared = ArrayPool<float>.Shared.Rent(Dimension);
        try
        {
            Prepare(query, prepared.AsSpan(0, Dimension));
            _lock.EnterReadLock();
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_idMap.Count == 0)
                {
                    return [];
                }

                using var search = new VectorQuery(this, prepared, k, options);
                return search.Run();
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(prepared);
        }
    }

    /// <summary>Retrains the partitions (or the flat centroid) now and re-encodes every vector.</summary>
    public void Retrain()
    {
        _lock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RetrainLocked();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Writes the float32 file's dirty pages to disk (msync).</summary>
    public void Flush()
    {
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _file.Flush();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Size and shape of the collection now.</summary>
    public VectorCollectionStatistics GetStatistics()
    {
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // A dictionary entry is about 24 bytes plus a 4-byte bucket.
            long indexBytes = (_otherKeys.Count * 28L) + (_centroids.Length * 4L) + _idMap.AllocatedBytes + _file.LongIdBytes;
            foreach (VectorPartition partition in _partitions)
            {
                indexBytes += partition.AllocatedBytes;
            }

            return new VectorCollectionStatistics(
                _idMap.Count, Dimension, Metric, _partitions.Length, DefaultNprobe, _signCodes, indexBytes, _file.FileBytes, VectorKernelPaths.BestInt8.ToString(),
                LoadedFromIndexFile, IndexFileProblem);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _lock.EnterWriteLock();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _file.Dispose();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    internal int DefaultNprobe
    {
        get
        {
            int partitions = _partitions.Length;
            int nprobe = _options.Nprobe > 0 ? _options.Nprobe : Math.Max(8, (partitions + 11) / 12);
            return Math.Min(partitions, nprobe);
        }
    }

    /// <summary>Checks a vector against this collection: length, finite components, (cosine) non-zero.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VectorInvalid"/> naming <paramref name="what"/> and the problem.</exception>
    internal void Validate(ReadOnlySpan<float> vector, string what)
    {
        if (!TryValidate(vector, out string? problem))
        {
            throw new EdgeException(EdgeErrorCode.VectorInvalid, $"{what} {problem} (collection '{Name}')");
        }
    }

    /// <summary>Like <see cref="Validate"/> without throwing; <paramref name="problem"/> completes "vector X ...".</summary>
    internal bool TryValidate(ReadOnlySpan<float> vector, [NotNullWhen(false)] out string? problem)
    {
        if (vector.Length != Dimension)
        {
            problem = $"has {vector.Length} components; the collection has dimension {Dimension}";
            return false;
        }

        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
            {
                problem = $"component {i} is {vector[i]}; NaN and infinity are rejected";
                return false;
            }
        }

        float squaredNorm = FloatKernels.Dot(vector, vector);
        if (!float.IsFinite(squaredNorm))
        {
            problem = "is too large: its squared norm overflows float32";
            return false;
        }

        if (Metric == VectorMetric.Cosine && squaredNorm == 0f)
        {
            problem = "is zero and has no direction under the cosine metric";
            return false;
        }

        problem = null;
        return true;
    }

    /// <summary>Copies <paramref name="vector"/> into <paramref name="destination"/>, normalized for cosine.</summary>
    private void Prepare(ReadOnlySpan<float> vector, Span<float> destination)
    {
        vector.CopyTo(destination);
        if (Metric == VectorMetric.Cosine)
        {
            float inverse = (float)(1.0 / Math.Sqrt(FloatKernels.Dot(vector, vector)));
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] *= inverse;
            }
        }
    }

    /// <summary>
    /// Encodes <paramref name="id"/> as strict UTF-8 into <paramref name="buffer"/> (ids are compared
    /// as UTF-8 against the slot trailers); false when it is not valid UTF-16 or does not fit.
    /// </summary>
    private static bool TryEncodeId(string id, Span<byte> buffer, out ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.FromUtf16(id, buffer, out _, out int written, replaceInvalidSequences: false) != OperationStatus.Done || written == 0)
        {
            bytes = default;
            return false;
        }

        bytes = buffer[..written];
        return true;
    }

    /// <summary>The slot of vector <paramref name="id"/>; false when absent (or not encodable, so never stored). Caller holds the lock.</summary>
    private bool TryFindSlot(string id, out int slot)
    {
        Span<byte> buffer = stackalloc byte[VectorCodec.IdBytesMax];
        if (TryEncodeId(id, buffer, out ReadOnlySpan<byte> idBytes))
        {
            return _idMap.TryGet(idBytes, _file, out slot);
        }

        slot = -1;
        return false;
    }

    /// <summary>The id of the live vector in <paramref name="slot"/>, decoded from its trailer (allocates).</summary>
    private string IdOf(int slot) => System.Text.Encoding.UTF8.GetString(_file.GetId(slot));

    private ReadOnlySpan<float> Centroid(int partition) => _centroids.AsSpan(partition * Dimension, Dimension);

    private int AllocateSlot()
    {
        if (_freeSlots.TryPop(out int slot))
        {
            return slot;
        }

        slot = _slotHigh++;
        _file.EnsureCapacity(slot + 1);
        return slot;
    }

    private void AddToPartition(int slot, ReadOnlySpan<float> vector)
    {
        Prepare(vector, _scratch);
        int partition = _partitions.Length == 1 ? 0 : KMeans.Nearest(_scratch, _centroids, _partitions.Length, Dimension);
        _file.SetPlacement(slot, partition, _partitions[partition].Add(slot, _scratch, Centroid(partition)));
    }

    /// <summary>
    /// Removes <paramref name="slot"/> (its id already out of the id map) from a flat index with
    /// identity slots: the last slot moves into it — vector, trailer, id, key, codes and its id map
    /// entry together — so slot and position stay equal and no slot array is needed.
    /// </summary>
    private void RemoveKeepingIdentitySlots(int slot)
    {
        System.Diagnostics.Debug.Assert(_partitions.Length == 1 && _slotHigh == _partitions[0].Count, "identity slots are dense");
        int last = _slotHigh - 1;
        if (slot != last)
        {
            _idMap.Renumber(_file.GetId(last), last, slot);
            _file.MoveSlot(last, slot);
            _file.SetPosition(slot, slot);
            if (_otherKeys.Remove(last, out string? key))
            {
                _otherKeys[slot] = key;
            }
        }

        _partitions[0].RemoveAt(slot);
        _file.ClearId(last);
        _file.SetVersion(last, default);
        _slotHigh = last;
    }

    /// <summary>Re-encodes the replaced vector of <paramref name="slot"/>: in place when flat, else into its nearest partition.</summary>
    private void ReplaceInPartition(int slot, ReadOnlySpan<float> vector)
    {
        if (_partitions.Length == 1)
        {
            Prepare(vector, _scratch);
            _partitions[0].Encode(_file.GetPlacement(slot).Position, slot, _scratch, Centroid(0));
            return;
        }

        RemoveFromPartition(slot);
        AddToPartition(slot, vector);
    }

    private void RemoveFromPartition(int slot)
    {
        (int partition, int position) = _file.GetPlacement(slot);
        int moved = _partitions[partition].RemoveAt(position);
        if (moved >= 0)
        {
            _file.SetPosition(moved, position);
        }
    }

    private void MaybeRetrain()
    {
        int count = _idMap.Count;
        if (_trainingSuspended || count < TrainCountMin)
        {
            return;
        }

        bool doubled = count >= 2 * _trainedCount;
        bool crossedThreshold = _partitions.Length == 1 && count >= _options.PartitionThreshold;
        if (doubled || crossedThreshold)
        {
            RetrainLocked();
        }
    }

    private void RetrainLocked()
    {
        _file.MarkOpen();
        int count = _idMap.Count;
        int dimension = Dimension;
        int[] live = new int[count];
        int n = 0;
        foreach (VectorPartition partition in _partitions)
        {
            for (int j = 0; j < partition.Count; j++)
            {
                live[n++] = partition.SlotAt(j);
            }
        }

        System.Diagnostics.Debug.Assert(n == count, "partitions must hold every stored vector exactly once");
        int partitionCount = count >= _options.PartitionThreshold
            ? Math.Min(count, _options.PartitionCount > 0 ? _options.PartitionCount : Math.Clamp((int)Math.Round(Math.Sqrt(count)), 16, 4096))
            : 1;
        float[] centroids = partitionCount == 1 ? Mean(live) : TrainCentroids(live, partitionCount);

        int[] assignment = new int[count];
        if (partitionCount > 1)
        {
            Parallel.For(0, count, () => new float[dimension], (i, _, buffer) =>
            {
                Prepare(_file.Read(live[i]), buffer);
                assignment[i] = KMeans.Nearest(buffer, centroids, partitionCount, dimension);
                return buffer;
            }, _ => { });
        }

        int[] sizes = new int[partitionCount];
        int[] positions = new int[count];
        for (int i = 0; i < count; i++)
        {
            positions[i] = sizes[assignment[i]]++;
        }

        // A flat index whose slots are dense and in order (always, unless it was partitioned before)
        // keeps identity slots: no slot array.
        bool identity = partitionCount == 1 && _slotHigh == count;
        for (int i = 0; identity && i < count; i++)
        {
            identity = live[i] == i;
        }

        var partitions = new VectorPartition[partitionCount];
        for (int p = 0; p < partitionCount; p++)
        {
            partitions[p] = new VectorPartition(dimension, _signCodes, sizes[p] + (sizes[p] / VectorPartition.GrowthDivisor) + 4, identity);
            partitions[p].SetCountForRebuild(sizes[p]);
        }

        Parallel.For(0, count, () => new float[dimension], (i, _, buffer) =>
        {
            int slot = live[i];
            int p = assignment[i];
            Prepare(_file.Read(slot), buffer);
            partitions[p].Encode(positions[i], slot, buffer, centroids.AsSpan(p * dimension, dimension));
            return buffer;
        }, _ => { });

        for (int i = 0; i < count; i++)
        {
            _file.SetPlacement(live[i], assignment[i], positions[i]);
        }

        _partitions = partitions;
        _centroids = centroids;
        _trainedCount = count;
    }

    private float[] Mean(int[] live)
    {
        double[] sum = new double[Dimension];
        float[] buffer = _scratch;
        foreach (int slot in live)
        {
            Prepare(_file.Read(slot), buffer);
            for (int d = 0; d < buffer.Length; d++)
            {
                sum[d] += buffer[d];
            }
        }

        float[] mean = new float[Dimension];
        for (int d = 0; d < mean.Length; d++)
        {
            mean[d] = (float)(sum[d] / Math.Max(1, live.Length));
        }

        return mean;
    }

    private float[] TrainCentroids(int[] live, int partitionCount)
    {
        int dimension = Dimension;
        int sampleCount = (int)Math.Min(live.Length, (long)partitionCount * SamplesPerCentroid);
        var random = new Random(live.Length);
        int[] picks = (int[])live.Clone();
        float[] samples = new float[sampleCount * dimension];
        for (int i = 0; i < sampleCount; i++)
        {
            int j = random.Next(i, picks.Length);
            (picks[i], picks[j]) = (picks[j], picks[i]);
            Prepare(_file.Read(picks[i]), samples.AsSpan(i * dimension, dimension));
        }

        return KMeans.Train(samples, sampleCount, dimension, partitionCount, KMeansIterations, seed: live.Length);
    }

    /// <summary>
    /// The state of one search: the query encoded once per probed partition, the work split into
    /// blocks, and the candidates each worker keeps. Runs under the collection's read lock. Its
    /// arrays come from <see cref="ArrayPool{T}"/> (a search allocates little beyond its result);
    /// dispose it to return them.
    /// </summary>
    private sealed class VectorQuery : IDisposable
    {
        private readonly VectorCollection _owner;
        private readonly float[] _query;
        private readonly int _k;
        private readonly int _candidates;
        private readonly VectorSearchOptions _options;
        private readonly int[] _probes;
        private readonly int _probeCount;
        private readonly sbyte[] _queryCodes;
        private readonly float[] _queryScales;
        private readonly float[] _queryOffsets;
        private readonly float[] _queryTailNorms;
        private readonly ulong[] _querySigns;
        private readonly (int Probe, int Start, int End)[] _blocks;
        private readonly int _blockCount;
        private readonly bool _dot;
        private readonly int _signWords;
        // The key prefix as UTF-8, so a prefix filter on keys equal to their ids compares trailer bytes
        // without decoding an id; null when there is no prefix or it is not valid UTF-16.
        private readonly byte[]? _prefixUtf8;
        private int _nextBlock = -1;

        /// <param name="owner">The collection, read-locked by the caller for the query's life.</param>
        /// <param name="query">The prepared query in its first <c>Dimension</c> floats (the array may be longer).</param>
        /// <param name="k">Results wanted.</param>
        /// <param name="options">Filters and tuning.</param>
        internal VectorQuery(VectorCollection owner, float[] query, int k, VectorSearchOptions options)
        {
            _owner = owner;
            _query = query;
            _k = k;
            _options = options;
            if (options.KeyPrefix is { } prefix)
            {
                try
                {
                    _prefixUtf8 = VectorCodec.StrictUtf8.GetBytes(prefix);
                }
                catch (System.Text.EncoderFallbackException)
                {
                    _prefixUtf8 = null;
                }
            }

            _dot = owner.Metric == VectorMetric.Dot;
            int dimension = owner.Dimension;
            int oversample = options.Oversample > 0 ? options.Oversample : owner._options.Oversample;
            // At least CandidatesMin are rescored: for small k, k * oversample leaves too little headroom
            // when near-duplicates sit within quantization error of each other, and 32 float rescores are cheap.
            _candidates = (int)Math.Min(Math.Max((long)k * oversample, CandidatesMin), owner._idMap.Count);
            (_probes, _probeCount) = ChooseProbes(options.Nprobe > 0 ? Math.Min(options.Nprobe, owner._partitions.Length) : owner.DefaultNprobe);
            _signWords = owner._signCodes ? ScalarQuantizer.SignWordCount(dimension) : 0;
            ReadOnlySpan<float> q = Query;

            // L2 and cosine (unit vectors, where 1 - cos = |q - x|^2 / 2) estimate |q_r - r|^2 with
            // q_r = q - centroid quantized per probed partition; dot estimates q.c + q.r with q quantized once.
            int encodings = _dot ? 1 : _probeCount;
            _queryCodes = ArrayPool<sbyte>.Shared.Rent(encodings * dimension);
            _queryScales = ArrayPool<float>.Shared.Rent(_probeCount);
            _queryOffsets = ArrayPool<float>.Shared.Rent(_probeCount);
            _queryTailNorms = ArrayPool<float>.Shared.Rent(_probeCount);
            _querySigns = ArrayPool<ulong>.Shared.Rent(_probeCount * _signWords);
            int blocks = 0;
            for (int i = 0; i < _probeCount; i++)
            {
                blocks += (owner._partitions[_probes[i]].Count + BlockSize - 1) / BlockSize;
            }

            _blocks = ArrayPool<(int, int, int)>.Shared.Rent(Math.Max(1, blocks));
            float dotScale = _dot ? ScalarQuantizer.Quantize(q, _queryCodes.AsSpan(0, dimension)) : 0f;
            int head = VectorPartition.HeadLengthFor(dimension);
            for (int i = 0; i < _probeCount; i++)
            {
                ReadOnlySpan<float> centroid = owner.Centroid(_probes[i]);
                if (_dot)
                {
                    _queryScales[i] = dotScale;
                    _queryOffsets[i] = FloatKernels.Dot(q, centroid);
                }
                else
                {
                    float scale = ScalarQuantizer.QuantizeResidual(q, centroid, _queryCodes.AsSpan(i * dimension, dimension));
                    ReadOnlySpan<sbyte> tail = _queryCodes.AsSpan((i * dimension) + head, dimension - head);
                    _queryScales[i] = scale;
                    // The head pass starts from |q_r|^2 minus the query's own tail term, so that the
                    // head estimate is the whole estimate minus the tail's (non-negative) sum of squares.
                    _queryTailNorms[i] = scale * scale * Int8Kernels.Dot(tail, tail);
                    _queryOffsets[i] = FloatKernels.SquaredL2(q, centroid) - _queryTailNorms[i];
                }

                if (_signWords > 0)
                {
                    ScalarQuantizer.SignBits(q, _dot ? owner._zeros : centroid, _querySigns.AsSpan(i * _signWords, _signWords));
                }

                int size = owner._partitions[_probes[i]].Count;
                for (int start = 0; start < size; start += BlockSize)
                {
                    _blocks[_blockCount++] = (i, start, Math.Min(size, start + BlockSize));
                }
            }
        }

        private ReadOnlySpan<float> Query => _query.AsSpan(0, _owner.Dimension);

        public void Dispose()
        {
            ArrayPool<int>.Shared.Return(_probes);
            ArrayPool<sbyte>.Shared.Return(_queryCodes);
            ArrayPool<float>.Shared.Return(_queryScales);
            ArrayPool<float>.Shared.Return(_queryOffsets);
            ArrayPool<float>.Shared.Return(_queryTailNorms);
            ArrayPool<ulong>.Shared.Return(_querySigns);
            ArrayPool<(int, int, int)>.Shared.Return(_blocks);
        }

        internal VectorMatch[] Run()
        {
            int scanned = 0;
            for (int b = 0; b < _blockCount; b++)
            {
                scanned += _blocks[b].End - _blocks[b].Start;
            }

            int workers = _options.MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : Math.Max(1, _options.MaxDegreeOfParallelism);
            workers = scanned < ParallelScanMin ? 1 : Math.Min(workers, _blockCount);
            var merged = new CandidateHeap(_candidates);
            try
            {
                if (workers == 1)
                {
                    ScanBlocks(ref merged);
                }
                else
                {
                    var heaps = new CandidateHeap[workers];
                    Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
                    {
                        var heap = new CandidateHeap(_candidates);
                        ScanBlocks(ref heap);
                        heaps[w] = heap;
                    });
                    foreach (CandidateHeap heap in heaps)
                    {
                        for (int i = 0; i < heap.Count; i++)
                        {
                            merged.Push(heap.DistanceAt(i), heap.ItemAt(i));
                        }

                        heap.Return();
                    }
                }

                return Rescore(ref merged);
            }
            finally
            {
                merged.Return();
            }
        }

        private (int[] Probes, int Count) ChooseProbes(int nprobe)
        {
            VectorPartition[] partitions = _owner._partitions;
            int[] probes = ArrayPool<int>.Shared.Rent(Math.Max(1, nprobe));
            if (partitions.Length == 1)
            {
                probes[0] = 0;
                return (probes, 1);
            }

            var nearest = new CandidateHeap(nprobe);
            try
            {
                ReadOnlySpan<float> q = Query;
                for (int p = 0; p < partitions.Length; p++)
                {
                    ReadOnlySpan<float> centroid = _owner.Centroid(p);
                    float distance = _dot ? -FloatKernels.Dot(q, centroid) : FloatKernels.SquaredL2(q, centroid);
                    if (distance < nearest.Threshold)
                    {
                        nearest.Push(distance, p);
                    }
                }

                for (int i = 0; i < nearest.Count; i++)
                {
                    probes[i] = nearest.ItemAt(i);
                }

                return (probes, nearest.Count);
            }
            finally
            {
                nearest.Return();
            }
        }

        private void ScanBlocks(ref CandidateHeap heap)
        {
            CandidateHeap signHeap = _signWords > 0 ? new CandidateHeap(_candidates * SignOversample) : default;
            try
            {
                int block;
                while ((block = Interlocked.Increment(ref _nextBlock)) < _blockCount)
                {
                    (int probe, int start, int end) = _blocks[block];
                    if (_signWords > 0 && end - start > 2 * signHeap.Capacity)
                    {
                        ScanWithSignPass(probe, start, end, ref heap, ref signHeap);
                    }
                    else
                    {
                        ScanInt8(probe, start, end, ref heap);
                    }
                }
            }
            finally
            {
                if (_signWords > 0)
                {
                    signHeap.Return();
                }
            }
        }

        private void ScanInt8(int probe, int start, int end, ref CandidateHeap heap)
        {
            switch (_options.Int8Path ?? VectorKernelPaths.BestInt8)
            {
                case VectorKernelPath.X64:
                    ScanInt8<Int8Kernels.X64Dot>(probe, start, end, ref heap);
                    break;
                case VectorKernelPath.Arm64:
                    ScanInt8<Int8Kernels.Arm64Dot>(probe, start, end, ref heap);
                    break;
                case VectorKernelPath.Vector256:
                    ScanInt8<Int8Kernels.Vector256Dot>(probe, start, end, ref heap);
                    break;
                case VectorKernelPath.Vector128:
                    ScanInt8<Int8Kernels.Vector128Dot>(probe, start, end, ref heap);
                    break;
                default:
                    ScanInt8<Int8Kernels.ScalarDot>(probe, start, end, ref heap);
                    break;
            }
        }

        // The hot loop, in chunks of ScanChunk members. The estimate is the squared distance between the
        // quantized query residual and the member's quantized residual, s_q^2|c_q|^2 + s^2|c|^2 -
        // 2 s_q s (c_q . c), corrected by the exact |q_r|^2 (a constant per partition); dot metric: minus
        // the quantized product. L2 and cosine: one multi-row kernel call (TDot, inlined) forms the
        // chunk's head dots from the head plane alone, and with the stored head norms (rounded down)
        // gives the whole estimate minus the tail's non-negative sum of squares: a lower bound, so
        // only members whose head beats the heap's threshold read their tail. Dot metric: no bound
        // exists, both planes are read. The filter runs only for members that would enter the heap.
        private void ScanInt8<TDot>(int probe, int start, int end, ref CandidateHeap heap)
            where TDot : struct, Int8Kernels.IDot
        {
            VectorPartition partition = _owner._partitions[_probes[probe]];
            int dimension = _owner.Dimension;
            int headLength = partition.HeadLength;
            int tailLength = partition.TailLength;
            ReadOnlySpan<sbyte> query = _queryCodes.AsSpan(_dot ? 0 : probe * dimension, dimension);
            ReadOnlySpan<sbyte> queryHead = query[..headLength];
            ReadOnlySpan<sbyte> queryTail = query[headLength..];
            float queryScale = _queryScales[probe];
            if (end > partition.Count || start < 0)
            {
                throw new InvalidOperationException($"scan block {start}..{end} is outside partition of {partition.Count}");
            }

            ReadOnlySpan<sbyte> heads = partition.HeadCodes.AsSpan(0, partition.Count * headLength);
            ReadOnlySpan<sbyte> tails = partition.TailCodes.AsSpan(0, partition.Count * tailLength);
            ref ushort scales = ref MemoryMarshal.GetArrayDataReference(partition.Scales);
            ref ushort headNorms = ref MemoryMarshal.GetArrayDataReference(partition.HeadNorms);
            int[]? slots = partition.Slots;

            // L2 and cosine: bias + s * (s * norm - 2 s_q * dot); dot metric: -(offset + s_q * s * dot),
            // the same form with norm weight 0, factor -s_q and bias -offset.
            var scan = new ScanState(
                _dot ? -_queryOffsets[probe] : _queryOffsets[probe], _dot ? 0f : _queryTailNorms[probe], _dot ? -queryScale : -2f * queryScale,
                !_dot && tailLength > 0, queryHead, queryTail, heads, tails);
            float normWeight = _dot ? 0f : 1 << partition.HeadNormShift;
            Vector128<float> biasV = Vector128.Create(scan.Bias);
            Vector128<float> normWeightV = Vector128.Create(normWeight);
            Vector128<float> factorV = Vector128.Create(scan.Factor);
            Span<int> dots = stackalloc int[ScanChunk];
            Span<int> tailDots = stackalloc int[_dot && tailLength > 0 ? ScanChunk : 0];
            ref int dot0 = ref MemoryMarshal.GetReference(dots);

            // Members whose head passes wait one chunk before their tail is read: their tail lines are
            // prefetched when they pass, and by the time the next chunk's heads are scored the lines are
            // in cache, so the scattered tail reads overlap instead of stalling one after another.
            Span<int> pendingRows = stackalloc int[2 * ScanChunk];
            Span<int> pendingDots = stackalloc int[2 * ScanChunk];
            Span<float> pendingValues = stackalloc float[2 * ScanChunk];
            int pendingCount = 0;
            int waitingStart = ScanChunk;
            int waitingCount = 0;
            float threshold = heap.Threshold;
            for (int chunk = start; chunk < end; chunk += ScanChunk)
            {
                int n = Math.Min(ScanChunk, end - chunk);
                TDot.DotRows(queryHead, heads.Slice(chunk * headLength, n * headLength), dots[..n]);
                if (_dot && tailLength > 0)
                {
                    TDot.DotRows(queryTail, tails.Slice(chunk * tailLength, n * tailLength), tailDots[..n]);
                    for (int i = 0; i < n; i++)
                    {
                        dots[i] += tailDots[i];
                    }
                }

                int pendingStart = ScanChunk - waitingStart;
                int i4 = 0;
                for (; i4 <= n - 4; i4 += 4)
                {
                    int j = chunk + i4;
                    // bfloat16 scales: widen four to 32 bits and shift them into a float's upper half.
                    Vector128<float> scale = Vector128.ShiftLeft(Vector128.WidenLower(
                        Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref scales, j)))).AsUInt16()), 16).AsSingle();
                    Vector128<float> norm = Vector128.ConvertToSingle(Vector128.WidenLower(
                        Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref headNorms, j)))).AsUInt16()));
                    Vector128<float> estimate = biasV + (scale * ((normWeightV * scale * norm)
                        + (factorV * Vector128.ConvertToSingle(Vector128.LoadUnsafe(ref dot0, (nuint)i4)))));
                    uint below = Vector128.LessThan(estimate, Vector128.Create(threshold)).ExtractMostSignificantBits();
                    while (below != 0)
                    {
                        int lane = BitOperations.TrailingZeroCount(below);
                        below &= below - 1;
                        if (scan.Bounded)
                        {
                            Defer(in scan, j + lane, Unsafe.Add(ref dot0, i4 + lane), estimate.GetElement(lane), pendingRows, pendingDots, pendingValues, pendingStart + pendingCount++);
                        }
                        else
                        {
                            Keep(estimate.GetElement(lane), SlotOf(slots, j + lane), ref heap, ref threshold);
                        }
                    }
                }

                for (; i4 < n; i4++)
                {
                    int j = chunk + i4;
                    float scale = ScalarQuantizer.ScaleFromBits(Unsafe.Add(ref scales, j));
                    float value = scan.Bias + (scale * ((normWeight * scale * Unsafe.Add(ref headNorms, j)) + (scan.Factor * Unsafe.Add(ref dot0, i4))));
                    if (value < threshold)
                    {
                        if (scan.Bounded)
                        {
                            Defer(in scan, j, Unsafe.Add(ref dot0, i4), value, pendingRows, pendingDots, pendingValues, pendingStart + pendingCount++);
                        }
                        else
                        {
                            Keep(value, SlotOf(slots, j), ref heap, ref threshold);
                        }
                    }
                }

                // The previous chunk's waiting members, then this chunk's wait for the next one.
                Complete<TDot>(in scan, pendingRows.Slice(waitingStart, waitingCount), pendingDots.Slice(waitingStart, waitingCount), pendingValues.Slice(waitingStart, waitingCount),
                    ref scales, slots, ref heap, ref threshold);
                waitingStart = pendingStart;
                waitingCount = pendingCount;
                pendingCount = 0;
            }

            Complete<TDot>(in scan, pendingRows.Slice(waitingStart, waitingCount), pendingDots.Slice(waitingStart, waitingCount), pendingValues.Slice(waitingStart, waitingCount),
                ref scales, slots, ref heap, ref threshold);
        }

        /// <summary>Records a member whose head bound passed and prefetches its tail codes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Defer(in ScanState scan, int j, int headDot, float bound, Span<int> rows, Span<int> dots, Span<float> values, int at)
        {
            rows[at] = j;
            dots[at] = headDot;
            values[at] = bound;
            if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
            {
                int tailLength = scan.QueryTail.Length;
                ref sbyte tail = ref MemoryMarshal.GetReference(scan.Tails.Slice(j * tailLength, tailLength));
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref tail));
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref tail, tailLength - 1)));
            }
        }

        /// <summary>
        /// Members deferred by <see cref="Defer"/>: those whose bound still beats the (since tightened)
        /// threshold get their exact estimate from both planes, then the filter, then the heap.
        /// </summary>
        private void Complete<TDot>(in ScanState scan, ReadOnlySpan<int> rows, ReadOnlySpan<int> dots, ReadOnlySpan<float> bounds, ref ushort scales, int[]? slots, ref CandidateHeap heap, ref float threshold)
            where TDot : struct, Int8Kernels.IDot
        {
            int headLength = scan.QueryHead.Length;
            int tailLength = scan.QueryTail.Length;
            for (int i = 0; i < rows.Length; i++)
            {
                if (bounds[i] >= threshold)
                {
                    continue;
                }

                int j = rows[i];
                ReadOnlySpan<sbyte> head = scan.Heads.Slice(j * headLength, headLength);
                ReadOnlySpan<sbyte> tail = scan.Tails.Slice(j * tailLength, tailLength);
                float scale = ScalarQuantizer.ScaleFromBits(Unsafe.Add(ref scales, j));
                int norm = TDot.Dot(head, head) + TDot.Dot(tail, tail);
                int dot = dots[i] + TDot.Dot(scan.QueryTail, tail);
                float value = scan.Bias + scan.TailBias + (scale * ((scale * norm) + (scan.Factor * dot)));
                if (value < threshold)
                {
                    Keep(value, SlotOf(slots, j), ref heap, ref threshold);
                }
            }
        }

        /// <summary>The slot of member <paramref name="j"/>: from the slot array, or <paramref name="j"/> itself for identity slots.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int SlotOf(int[]? slots, int j) => slots is null ? j : slots[j];

        /// <summary>Pushes a member that beats the threshold and passes the filters.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Keep(float value, int slot, ref CandidateHeap heap, ref float threshold)
        {
            if (value < threshold && Accepts(slot))
            {
                heap.Push(value, slot);
                threshold = heap.Threshold;
            }
        }

        /// <summary>What one partition's scan needs beside the loop variables, for <see cref="Defer"/> and <see cref="Complete"/>.</summary>
        private readonly ref struct ScanState(
            float bias, float tailBias, float factor, bool bounded,
            ReadOnlySpan<sbyte> queryHead, ReadOnlySpan<sbyte> queryTail, ReadOnlySpan<sbyte> heads, ReadOnlySpan<sbyte> tails)
        {
            internal readonly float Bias = bias;
            internal readonly float TailBias = tailBias;
            internal readonly float Factor = factor;
            internal readonly bool Bounded = bounded;
            internal readonly ReadOnlySpan<sbyte> QueryHead = queryHead;
            internal readonly ReadOnlySpan<sbyte> QueryTail = queryTail;
            internal readonly ReadOnlySpan<sbyte> Heads = heads;
            internal readonly ReadOnlySpan<sbyte> Tails = tails;
        }

        private void ScanWithSignPass(int probe, int start, int end, ref CandidateHeap heap, ref CandidateHeap signHeap)
        {
            switch (VectorKernelPaths.BestBinary)
            {
                case VectorKernelPath.Arm64:
                    SignPass<BinaryKernels.Arm64Hamming>(probe, start, end, ref signHeap);
                    break;
                case VectorKernelPath.Vector256 or VectorKernelPath.X64:
                    SignPass<BinaryKernels.Vector256Hamming>(probe, start, end, ref signHeap);
                    break;
                case VectorKernelPath.Vector128:
                    SignPass<BinaryKernels.Vector128Hamming>(probe, start, end, ref signHeap);
                    break;
                default:
                    SignPass<BinaryKernels.ScalarHamming>(probe, start, end, ref signHeap);
                    break;
            }

            VectorPartition partition = _owner._partitions[_probes[probe]];
            int dimension = _owner.Dimension;
            ReadOnlySpan<sbyte> query = _queryCodes.AsSpan(_dot ? 0 : probe * dimension, dimension);
            float queryScale = _queryScales[probe];
            float offset = _queryOffsets[probe];
            int head = partition.HeadLength;
            float tailBias = _dot ? 0f : _queryTailNorms[probe];
            for (int i = 0; i < signHeap.Count; i++)
            {
                int j = signHeap.ItemAt(i);
                ReadOnlySpan<sbyte> headCodes = partition.HeadAt(j);
                ReadOnlySpan<sbyte> tailCodes = partition.TailAt(j);
                int dot = Int8Kernels.Dot(query[..head], headCodes) + Int8Kernels.Dot(query[head..], tailCodes);
                float scale = partition.ScaleAt(j);
                float estimate = _dot
                    ? -(offset + (queryScale * scale * dot))
                    : offset + tailBias + (scale * scale * (Int8Kernels.Dot(headCodes, headCodes) + Int8Kernels.Dot(tailCodes, tailCodes))) - (2f * queryScale * scale * dot);
                heap.Push(estimate, partition.SlotAt(j));
            }
        }

        // First pass: the members with the fewest differing sign bits (filters applied here, so the
        // int8 pass sees only accepted members).
        private void SignPass<THamming>(int probe, int start, int end, ref CandidateHeap signHeap)
            where THamming : struct, BinaryKernels.IHamming
        {
            VectorPartition partition = _owner._partitions[_probes[probe]];
            int words = _signWords;
            ReadOnlySpan<ulong> querySigns = _querySigns.AsSpan(probe * words, words);
            ReadOnlySpan<ulong> signs = partition.SignCodes.AsSpan(0, partition.Count * words);
            int[]? slots = partition.Slots;
            signHeap.Clear();
            float threshold = signHeap.Threshold;
            for (int j = start; j < end; j++)
            {
                float distance = THamming.Hamming(querySigns, signs.Slice(j * words, words));
                if (distance < threshold && Accepts(SlotOf(slots, j)))
                {
                    signHeap.Push(distance, j);
                    threshold = signHeap.Threshold;
                }
            }
        }

        private bool Accepts(int slot)
        {
            if (_options.KeyPrefix is null && _options.DocumentPredicate is null)
            {
                return true;
            }

            if (!_owner._otherKeys.TryGetValue(slot, out string? key) && _prefixUtf8 is not null)
            {
                // The key is the id: test the prefix on its UTF-8 bytes (the same order as ordinal UTF-16
                // for valid text), and decode it only for a predicate.
                if (!_owner._file.GetId(slot).StartsWith(_prefixUtf8))
                {
                    return false;
                }

                if (_options.DocumentPredicate is null)
                {
                    return true;
                }
            }

            key ??= _owner.IdOf(slot);
            if (_options.KeyPrefix is { } prefix && !key.StartsWith(prefix, StringComparison.Ordinal))
            {
                return false;
            }

            return _options.DocumentPredicate is not { } predicate || predicate(key);
        }

        private VectorMatch[] Rescore(ref CandidateHeap candidates)
        {
            int count = candidates.Count;
            float[] distances = ArrayPool<float>.Shared.Rent(count);
            int[] slots = ArrayPool<int>.Shared.Rent(count);
            try
            {
                VectorFile file = _owner._file;
                ReadOnlySpan<float> q = Query;
                for (int i = 0; i < count; i++)
                {
                    int slot = candidates.ItemAt(i);
                    ReadOnlySpan<float> stored = file.Read(slot);
                    slots[i] = slot;
                    distances[i] = _owner.Metric switch
                    {
                        VectorMetric.Cosine => FloatKernels.CosineDistance(q, stored),
                        VectorMetric.Dot => -FloatKernels.Dot(q, stored),
                        _ => FloatKernels.SquaredL2(q, stored),
                    };
                }

                Array.Sort(distances, slots, 0, count);
                var results = new VectorMatch[Math.Min(_k, count)];
                for (int i = 0; i < results.Length; i++)
                {
                    int slot = slots[i];
                    string id = _owner.IdOf(slot);
                    results[i] = new VectorMatch(id, _owner._otherKeys.TryGetValue(slot, out string? key) ? key : id, distances[i]);
                }

                return results;
            }
            finally
            {
                ArrayPool<float>.Shared.Return(distances);
                ArrayPool<int>.Shared.Return(slots);
            }
        }
    }
}
