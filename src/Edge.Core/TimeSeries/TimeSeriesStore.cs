using System.Diagnostics;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// The in-memory time-series state machine: per-series open head chunks and the index of closed
/// chunks, with the routing of every reading (in order, late, duplicate), chunk close rules, range
/// reads, downsampling and retention. Deterministic: applying the same operations in the same
/// order gives the same chunks, which is what lets the WAL rebuild it. Not thread-safe; the
/// database serializes calls.
/// </summary>
/// <remarks>
/// <para>A series is the set union of the streams its origin replicas wrote (one
/// <see cref="SeriesState"/> per origin, sorted by origin): a reading is keyed by (timestamp,
/// origin), so two replicas' readings at one timestamp both survive and reads return them ordered
/// by timestamp, then origin. Within one origin a timestamp appears once and the later op wins;
/// ops of one origin apply in its sequence order everywhere, so merging is commutative across
/// origins and idempotent.</para>
/// <para>Invariants per stream: closed chunks are sorted by time and their [first, last] ranges
/// are disjoint; every head reading is later than the last closed chunk; a timestamp appears once.
/// All streams of a series share one retention floor.</para>
/// </remarks>
internal sealed class TimeSeriesStore : IDisposable
{
    private readonly TimeSeriesOptions _options;
    private readonly ITimeSeriesChunkSource? _source;
    private readonly bool _recordChanges;
    private readonly Dictionary<string, List<SeriesState>> _series = new(StringComparer.Ordinal); // streams sorted by origin
    private readonly List<long> _deletedChunkIds = [];
    private readonly List<long> _deletedSeriesIds = [];
    private long _nextChunkId = 1;
    private long _nextSeriesId = 1;

    /// <summary>Creates an empty store.</summary>
    /// <param name="options">Chunk close rules; replicas of one state must use equal options.</param>
    /// <param name="source">Where closed chunks are read from when their bytes are not cached; null keeps every chunk in memory.</param>
    /// <param name="recordChanges">False for a replica whose changes are persisted by another (the live copy of the database):
    /// <see cref="TakeChanges"/> then returns nothing.</param>
    public TimeSeriesStore(TimeSeriesOptions options, ITimeSeriesChunkSource? source = null, bool recordChanges = true)
    {
        options.Validate();
        _options = options;
        _source = source;
        _recordChanges = recordChanges;
    }

    /// <summary>Chunks decoded by range reads and downsamples (a statistic for tests and benchmarks).</summary>
    public long ChunksDecoded { get; private set; }

    /// <summary>Chunks a downsample answered from the header alone, without decoding.</summary>
    public long ChunksSummarized { get; private set; }

    public int SeriesCount => _series.Count;

    /// <summary>
    /// The oldest LSN any head chunk still needs from the WAL (the head is rebuilt from it on
    /// recovery), or null when every head is empty.
    /// </summary>
    public long? OldestHeadLsn
    {
        get
        {
            long? oldest = null;
            foreach (List<SeriesState> streams in _series.Values)
            {
                foreach (SeriesState series in streams)
                {
                    if (series.Head.Count > 0 && (oldest is null || series.Head.FirstLsn < oldest))
                    {
                        oldest = series.Head.FirstLsn;
                    }
                }
            }

            return oldest;
        }
    }

    /// <summary>Applies readings of one origin in the given order (a later duplicate timestamp of that origin wins).</summary>
    /// <param name="name">The series; created on first use.</param>
    /// <param name="readings">Any order; timestamps must be in range (checked before the WAL append).</param>
    /// <param name="lsn">LSN of the WAL record carrying the readings.</param>
    /// <param name="origin">The replica that originated the op; its stream is created on first use.</param>
    public TimeSeriesAppendResult Append(string name, ReadOnlySpan<TimeSeriesReading> readings, long lsn, ulong origin = 0)
    {
        if (!_series.TryGetValue(name, out List<SeriesState>? streams))
        {
            streams = new List<SeriesState>(1);
            _series.Add(name, streams);
        }

        SeriesState? series = FindStream(streams, origin);
        if (series is null)
        {
            series = new SeriesState(_nextSeriesId++, name, lsn, origin) { Dirty = _recordChanges };
            long floor = RetentionFloorOf(streams);
            if (floor > long.MinValue)
            {
                // A new origin's stream starts under the series' retention floor like the others.
                series.RetentionFloor = floor;
                series.ClosedThrough = floor - 1;
            }

            AddStream(streams, series);
        }

        int added = 0;
        int replaced = 0;
        int expired = 0;
        foreach (TimeSeriesReading reading in readings)
        {
            Debug.Assert(reading.Timestamp is >= TimeSeriesLimits.TimestampMin and <= TimeSeriesLimits.TimestampMax, "timestamps are validated before the WAL append");
            if (reading.Timestamp < series.RetentionFloor)
            {
                expired++;
                continue;
            }

            if (Route(series, reading.Timestamp, reading.Value, lsn))
            {
                added++;
            }
            else
            {
                replaced++;
            }
        }

        AssertInvariants(series);
        return new TimeSeriesAppendResult(added, replaced, expired);
    }

    /// <summary>
    /// Recovery of a head chunk: re-applies a record at or before the checkpoint, whose effect on
    /// closed chunks is already persisted. Only readings after the series' closed-through mark go
    /// to the head (exactly the head's readings at the checkpoint, see
    /// <see cref="SeriesState.ClosedThrough"/>); records of a deleted incarnation of the series are
    /// ignored. Retention and delete records before the checkpoint need no replay: their effect on
    /// the head is contained in the mark and the incarnation. Records of an origin with no stream of
    /// its own at that LSN go to a <see cref="SeriesState.LegacyOrigin"/> stream if there is one.
    /// </summary>
    public void ReplayIntoHead(string name, ReadOnlySpan<TimeSeriesReading> readings, long lsn, ulong origin = 0)
    {
        if (!_series.TryGetValue(name, out List<SeriesState>? streams))
        {
            return;
        }

        SeriesState? series = FindStream(streams, origin);
        if (series is null || lsn < series.CreatedLsn)
        {
            series = streams.Find(s => s.LegacyOrigin);
            if (series is null || lsn < series.CreatedLsn)
            {
                return;
            }
        }

        foreach (TimeSeriesReading reading in readings)
        {
            if (reading.Timestamp <= series.ClosedThrough)
            {
                continue;
            }

            if (series.Head.Count == 0)
            {
                series.Head.FirstLsn = lsn;
            }

            series.Head.Insert(reading.Timestamp, reading.Value);
        }
    }

    /// <summary>
    /// Appends readings in [<paramref name="from"/>, <paramref name="to"/>) to <paramref name="output"/>,
    /// ordered by timestamp, then origin.
    /// </summary>
    /// <remarks><paramref name="origins"/>, when given, receives the origin of each reading appended, in the same order.</remarks>
    /// <returns>The number of readings appended; 0 when the series does not exist.</returns>
    public int ReadRange(string name, long from, long to, List<TimeSeriesReading> output, List<ulong>? origins = null)
    {
        ValidateRange(from, to);
        if (!_series.TryGetValue(name, out List<SeriesState>? streams))
        {
            return 0;
        }

        if (streams.Count == 1)
        {
            int count = ReadStream(streams[0], from, to, output);
            for (int i = 0; i < count && origins is not null; i++)
            {
                origins.Add(streams[0].Origin);
            }

            return count;
        }

        // Several origins: merge their streams; on equal timestamps the lower origin (earlier in
        // the list) comes first.
        var parts = new List<TimeSeriesReading>[streams.Count];
        var cursors = new int[streams.Count];
        for (int k = 0; k < streams.Count; k++)
        {
            parts[k] = [];
            ReadStream(streams[k], from, to, parts[k]);
        }

        int before = output.Count;
        while (true)
        {
            int next = -1;
            for (int k = 0; k < parts.Length; k++)
            {
                if (cursors[k] < parts[k].Count && (next < 0 || parts[k][cursors[k]].Timestamp < parts[next][cursors[next]].Timestamp))
                {
                    next = k;
                }
            }

            if (next < 0)
            {
                return output.Count - before;
            }

            output.Add(parts[next][cursors[next]++]);
            origins?.Add(streams[next].Origin);
        }
    }

    private int ReadStream(SeriesState series, long from, long to, List<TimeSeriesReading> output)
    {
        int before = output.Count;
        int start = Math.Max(0, series.FindChunkAtOrBefore(from));
        for (int i = start; i < series.Chunks.Count; i++)
        {
            ChunkEntry chunk = series.Chunks[i];
            if (chunk.FirstTimestamp >= to)
            {
                break;
            }

            if (chunk.LastTimestamp < from)
            {
                continue;
            }

            if (chunk.Pending is { } pending)
            {
                AddRange(pending.Timestamps, pending.Values, from, to, output);
                continue;
            }

            ChunksDecoded++;
            try
            {
                var reader = new ChunkReader(GetBytes(series, chunk));
                while (reader.TryRead(out TimeSeriesReading reading))
                {
                    if (reading.Timestamp >= to)
                    {
                        break;
                    }

                    if (reading.Timestamp >= from)
                    {
                        output.Add(reading);
                    }
                }
            }
            catch (EdgeCorruptionException e)
            {
                throw WithContext(series, chunk, e);
            }
        }

        AddRange(series.Head.Timestamps, series.Head.Values, from, to, output);
        return output.Count - before;
    }

    /// <summary>
    /// Appends one bucket per <paramref name="bucketMs"/>-wide interval (aligned to multiples of the
    /// width since the epoch) that holds readings in [<paramref name="from"/>, <paramref name="to"/>).
    /// Empty intervals produce no bucket. A closed chunk wholly inside the range and inside one
    /// bucket is aggregated from its header, without decoding. With several origins, each origin's
    /// buckets are computed alone and then combined (<see cref="TimeSeriesBucket.Combine"/>).
    /// </summary>
    /// <returns>The number of buckets appended.</returns>
    public int Downsample(string name, long from, long to, long bucketMs, List<TimeSeriesBucket> output)
    {
        ValidateRange(from, to);
        if (bucketMs <= 0 || bucketMs > TimeSeriesLimits.TimestampMax)
        {
            throw new EdgeException(EdgeErrorCode.TimeSeriesQueryInvalid, $"Bucket width {bucketMs} ms must be positive and at most {TimeSeriesLimits.TimestampMax}.");
        }

        if (!_series.TryGetValue(name, out List<SeriesState>? streams))
        {
            return 0;
        }

        if (streams.Count == 1)
        {
            return DownsampleStream(streams[0], from, to, bucketMs, output);
        }

        var merged = new List<TimeSeriesBucket>();
        var part = new List<TimeSeriesBucket>();
        foreach (SeriesState stream in streams)
        {
            part.Clear();
            DownsampleStream(stream, from, to, bucketMs, part);
            merged = MergeBuckets(merged, part);
        }

        output.AddRange(merged);
        return merged.Count;
    }

    private int DownsampleStream(SeriesState series, long from, long to, long bucketMs, List<TimeSeriesBucket> output)
    {
        int before = output.Count;
        var aggregator = new BucketAggregator(bucketMs, output);
        int start = Math.Max(0, series.FindChunkAtOrBefore(from));
        for (int i = start; i < series.Chunks.Count; i++)
        {
            ChunkEntry chunk = series.Chunks[i];
            if (chunk.FirstTimestamp >= to)
            {
                break;
            }

            if (chunk.LastTimestamp < from)
            {
                continue;
            }

            if (chunk.Pending is { } pending)
            {
                aggregator.AddRange(pending.Timestamps, pending.Values, from, to);
                continue;
            }

            ChunkHeader header = chunk.Header;
            if (header.FirstTimestamp >= from && header.LastTimestamp < to
                && aggregator.BucketOf(header.FirstTimestamp) == aggregator.BucketOf(header.LastTimestamp))
            {
                ChunksSummarized++;
                aggregator.AddChunk(header);
                continue;
            }

            ChunksDecoded++;
            try
            {
                var reader = new ChunkReader(GetBytes(series, chunk));
                while (reader.TryRead(out TimeSeriesReading reading))
                {
                    if (reading.Timestamp >= to)
                    {
                        break;
                    }

                    if (reading.Timestamp >= from)
                    {
                        aggregator.Add(reading.Timestamp, reading.Value);
                    }
                }
            }
            catch (EdgeCorruptionException e)
            {
                throw WithContext(series, chunk, e);
            }
        }

        aggregator.AddRange(series.Head.Timestamps, series.Head.Values, from, to);
        aggregator.Complete();
        return output.Count - before;
    }

    /// <summary>
    /// Drops the series' chunks whose every reading is older than <paramref name="cutoff"/> (whole
    /// chunks only; the head too when it expired whole) and from then on rejects readings older
    /// than the cutoff. Applies to every origin's readings of the series.
    /// </summary>
    public TimeSeriesRetentionResult DropBefore(string name, long cutoff, long lsn = 0)
    {
        if (!_series.TryGetValue(name, out List<SeriesState>? streams))
        {
            return default;
        }

        TimeSeriesRetentionResult total = default;
        foreach (SeriesState series in streams)
        {
            TimeSeriesRetentionResult result = DropBefore(series, cutoff, lsn);
            total = new TimeSeriesRetentionResult(total.ChunksDropped + result.ChunksDropped, total.ReadingsDropped + result.ReadingsDropped, total.ReadingsKept + result.ReadingsKept);
        }

        return total;
    }

    private TimeSeriesRetentionResult DropBefore(SeriesState series, long cutoff, long lsn)
    {
        int chunksDropped = 0;
        long readingsDropped = 0;
        while (chunksDropped < series.Chunks.Count && series.Chunks[chunksDropped].LastTimestamp < cutoff)
        {
            ChunkEntry chunk = series.Chunks[chunksDropped];
            readingsDropped += chunk.Count;
            chunk.Pending?.Dispose();
            RecordDeleted(chunk.ChunkId);
            chunksDropped++;
        }

        series.Chunks.RemoveRange(0, chunksDropped);
        ChunkBuffer head = series.Head;
        if (head.Count > 0 && head.LastTimestamp < cutoff)
        {
            // Expired whole (every closed chunk, being earlier, expired too).
            readingsDropped += head.Count;
            series.ClosedThrough = Math.Max(series.ClosedThrough, head.LastTimestamp);
            head.Clear();
            chunksDropped++;
        }
        else if (head.Count > 0 && head.FirstTimestamp < cutoff)
        {
            // Straddles the cutoff: close it, so the head only ever holds readings at or after the
            // floor and the closed-through mark can move past the cutoff.
            SealHead(series, lsn);
        }

        if (cutoff > series.RetentionFloor)
        {
            series.RetentionFloor = cutoff;
            series.ClosedThrough = Math.Max(series.ClosedThrough, cutoff - 1);
            series.Dirty = _recordChanges;
        }

        AssertInvariants(series);
        return new TimeSeriesRetentionResult(chunksDropped, readingsDropped, series.Count);
    }

    /// <summary>Removes a series and all its readings.</summary>
    /// <returns>The number of readings removed, or -1 when the series did not exist.</returns>
    public long DeleteSeries(string name)
    {
        if (!_series.Remove(name, out List<SeriesState>? streams))
        {
            return -1;
        }

        long count = 0;
        foreach (SeriesState series in streams)
        {
            count += series.Count;
            foreach (ChunkEntry chunk in series.Chunks)
            {
                RecordDeleted(chunk.ChunkId);
            }

            if (_recordChanges)
            {
                _deletedSeriesIds.Add(series.SeriesId);
            }

            series.Dispose();
        }

        return count;
    }

    /// <summary>Every series, ordered by name (ordinal).</summary>
    public List<TimeSeriesInfo> ListSeries()
    {
        var result = new List<TimeSeriesInfo>(_series.Count);
        foreach (List<SeriesState> streams in _series.Values)
        {
            result.Add(Describe(streams));
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    /// <summary>Describes one series.</summary>
    public bool TryGetInfo(string name, out TimeSeriesInfo info)
    {
        if (_series.TryGetValue(name, out List<SeriesState>? streams))
        {
            info = Describe(streams);
            return true;
        }

        info = default;
        return false;
    }

    /// <summary>
    /// Encodes every chunk that changed since the last call (merging late readings, splitting a
    /// chunk that grew past the readings bound) and returns the rows to persist. The head chunks
    /// are not included: they are rebuilt from the WAL.
    /// </summary>
    public TimeSeriesChanges TakeChanges()
    {
        var changes = new TimeSeriesChanges();
        foreach (SeriesState series in AllStreams())
        {
            if (series.Dirty)
            {
                changes.Series.Add((series.SeriesId, series.Name, series.CreatedLsn, series.RetentionFloor, series.ClosedThrough, series.Origin, series.LegacyOrigin));
                series.Dirty = false;
            }

            foreach (ChunkEntry chunk in series.Chunks)
            {
                if (chunk.Dirty)
                {
                    if (chunk.Pending is { } pending)
                    {
                        EncodePending(series, chunk, pending);
                    }

                    changes.Chunks.Add((series.SeriesId, chunk.ChunkId, chunk.Header, chunk.Bytes!));
                    chunk.Dirty = false;
                }
            }

            AssertInvariants(series);
        }

        changes.DeletedChunks.AddRange(_deletedChunkIds);
        changes.DeletedSeries.AddRange(_deletedSeriesIds);
        _deletedChunkIds.Clear();
        _deletedSeriesIds.Clear();
        return changes;
    }

    /// <summary>
    /// Forgets the bytes (encoded or decoded) of chunks last changed at or before
    /// <paramref name="checkpointLsn"/>: a checkpoint through that LSN stored exactly this content in
    /// the chunk source, so it is read from there when needed. Keeps memory bounded by the index.
    /// </summary>
    /// <param name="checkpointLsn">The checkpoint that committed.</param>
    /// <param name="persistedHeaders">Headers of the chunks that checkpoint wrote, by chunk id (from the
    /// replica that persisted them): a chunk held decoded takes its header from here instead of being encoded.</param>
    public void ReleaseCheckpointed(long checkpointLsn, IReadOnlyDictionary<long, ChunkHeader>? persistedHeaders = null)
    {
        if (_source is null)
        {
            return;
        }

        foreach (SeriesState series in AllStreams())
        {
            foreach (ChunkEntry chunk in series.Chunks)
            {
                if (chunk.LastChangedLsn > checkpointLsn || (chunk.Bytes is null && chunk.Pending is null))
                {
                    continue;
                }

                if (chunk.Pending is { } pending)
                {
                    // The header must describe the stored encoding before the decoded copy goes.
                    if (persistedHeaders is not null && persistedHeaders.TryGetValue(chunk.ChunkId, out ChunkHeader header))
                    {
                        Debug.Assert(header.Count == pending.Count && header.LastTimestamp == pending.LastTimestamp, "replicas agree on checkpointed chunks");
                        chunk.Header = header;
                        chunk.Pending = null;
                        pending.Dispose();
                    }
                    else
                    {
                        EncodePending(series, chunk, pending);
                    }
                }

                chunk.Bytes = null;
            }
        }
    }

    /// <summary>Recovery: registers a persisted (series, origin) stream.</summary>
    /// <exception cref="EdgeCorruptionException">The series already has a stream of that origin.</exception>
    public void LoadSeries(long seriesId, string name, long createdLsn, long retentionFloor, long closedThrough, ulong origin = 0, bool legacyOrigin = false)
    {
        if (!_series.TryGetValue(name, out List<SeriesState>? streams))
        {
            streams = new List<SeriesState>(1);
            _series.Add(name, streams);
        }

        if (FindStream(streams, origin) is { } existing)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, $"series '{name}' rows {existing.SeriesId} and {seriesId}", $"two rows hold origin {origin:X16}");
        }

        AddStream(streams, new SeriesState(seriesId, name, createdLsn, origin) { RetentionFloor = retentionFloor, ClosedThrough = closedThrough, LegacyOrigin = legacyOrigin });
        _nextSeriesId = Math.Max(_nextSeriesId, seriesId + 1);
    }

    /// <summary>Recovery: registers a persisted chunk of the stream <see cref="ChunkHeader.SeriesId"/> names (in any order; call <see cref="CompleteLoad"/> after the last).</summary>
    /// <exception cref="EdgeCorruptionException">The series has no stream with the header's id.</exception>
    public void LoadChunk(string name, long chunkId, ChunkHeader header, byte[]? bytes)
    {
        SeriesState? series = _series.TryGetValue(name, out List<SeriesState>? streams) ? streams.Find(s => s.SeriesId == header.SeriesId) : null;
        if (series is null)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, $"series '{name}' chunk {chunkId}", $"the chunk names stream {header.SeriesId}, which the series does not have");
        }

        series.Chunks.Add(new ChunkEntry(chunkId, header, bytes));
        _nextChunkId = Math.Max(_nextChunkId, chunkId + 1);
    }

    /// <summary>Next series id to assign (persisted so replicas rebuilt from disk assign the same ids).</summary>
    public long NextSeriesId => _nextSeriesId;

    /// <summary>Next chunk id to assign.</summary>
    public long NextChunkId => _nextChunkId;

    /// <summary>Recovery: sorts and checks the loaded chunk index; restores the id counters (0 keeps what the loaded rows imply).</summary>
    /// <exception cref="EdgeCorruptionException">Two persisted chunks of a series overlap in time.</exception>
    public void CompleteLoad(long nextSeriesId = 0, long nextChunkId = 0)
    {
        _nextSeriesId = Math.Max(_nextSeriesId, nextSeriesId);
        _nextChunkId = Math.Max(_nextChunkId, nextChunkId);
        foreach (SeriesState series in AllStreams())
        {
            series.Chunks.Sort((a, b) => a.FirstTimestamp.CompareTo(b.FirstTimestamp));
            for (int i = 1; i < series.Chunks.Count; i++)
            {
                if (series.Chunks[i].FirstTimestamp <= series.Chunks[i - 1].LastTimestamp)
                {
                    throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, $"series '{series.Name}' chunks {series.Chunks[i - 1].ChunkId} and {series.Chunks[i].ChunkId}", "persisted chunks overlap in time");
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (SeriesState series in AllStreams())
        {
            series.Dispose();
        }

        _series.Clear();
    }

    private IEnumerable<SeriesState> AllStreams() => _series.Values.SelectMany(streams => streams);

    private static SeriesState? FindStream(List<SeriesState> streams, ulong origin)
    {
        foreach (SeriesState stream in streams)
        {
            if (stream.Origin == origin)
            {
                return stream;
            }
        }

        return null;
    }

    private static void AddStream(List<SeriesState> streams, SeriesState stream)
    {
        int index = 0;
        while (index < streams.Count && streams[index].Origin < stream.Origin)
        {
            index++;
        }

        streams.Insert(index, stream);
    }

    private static long RetentionFloorOf(List<SeriesState> streams)
    {
        long floor = long.MinValue;
        foreach (SeriesState stream in streams)
        {
            floor = Math.Max(floor, stream.RetentionFloor);
        }

        return floor;
    }

    /// <summary>Merges two bucket lists ordered by start, combining buckets with equal starts.</summary>
    private static List<TimeSeriesBucket> MergeBuckets(List<TimeSeriesBucket> lower, List<TimeSeriesBucket> higher)
    {
        var merged = new List<TimeSeriesBucket>(Math.Max(lower.Count, higher.Count));
        int i = 0;
        int j = 0;
        while (i < lower.Count || j < higher.Count)
        {
            if (j == higher.Count || (i < lower.Count && lower[i].Start < higher[j].Start))
            {
                merged.Add(lower[i++]);
            }
            else if (i == lower.Count || higher[j].Start < lower[i].Start)
            {
                merged.Add(higher[j++]);
            }
            else
            {
                merged.Add(TimeSeriesBucket.Combine(lower[i++], higher[j++]));
            }
        }

        return merged;
    }

    /// <summary>Routes one reading; returns true when its timestamp was new.</summary>
    private bool Route(SeriesState series, long timestamp, double value, long lsn)
    {
        ChunkBuffer head = series.Head;
        if (timestamp > series.ClosedThrough)
        {
            // FitsInHead first: it is O(1) and almost always true; Contains is a binary search.
            if (head.Count > 0 && !FitsInHead(series, head, timestamp) && !head.Contains(timestamp))
            {
                SealHead(series, lsn);
            }

            if (timestamp > series.ClosedThrough)
            {
                head = series.Head; // sealing may have handed the old buffer to the closed chunk
                if (head.Count == 0)
                {
                    head.FirstLsn = lsn;
                }

                return head.Insert(timestamp, value);
            }
        }

        return RouteLate(series, timestamp, value, lsn);
    }

    private bool FitsInHead(SeriesState series, ChunkBuffer head, long timestamp) =>
        head.Count < _options.ChunkReadingsMax
        && Math.Max(head.LastTimestamp, timestamp) - Math.Min(head.FirstTimestamp, timestamp) < _options.ChunkSpanMs
        && !ReachedBytesTarget(series, head);

    /// <summary>
    /// Whether the head's encoding has reached <see cref="TimeSeriesOptions.ChunkBytesTarget"/>
    /// (within 1/16 under it). Measured only when the count reaches <see cref="ChunkBuffer.NextSizeCheck"/>:
    /// each measurement aims the next at 1/32 under the target, at the bytes per reading measured
    /// (header excluded; a quarter short when that is far from a sample under 1024 readings), and at
    /// most at four times the count, so a steady series is encoded a few times while small and once
    /// at full size — an encoding the seal then reuses.
    /// </summary>
    private bool ReachedBytesTarget(SeriesState series, ChunkBuffer head)
    {
        int target = _options.ChunkBytesTarget;
        if (target == 0 || head.BytesTargetReached || head.Count < head.NextSizeCheck)
        {
            return head.BytesTargetReached;
        }

        int bytes = head.Measure(series.SeriesId).Length;
        if (bytes >= target - (target / 16))
        {
            head.BytesTargetReached = true;
            return true;
        }

        // Bytes per reading tend to grow with the count while it is small (XOR windows widen), so
        // from a small sample a far aim stops a quarter short and measures again.
        double perReading = Math.Max(bytes - ChunkHeader.Size, 1) / (double)head.Count;
        long aim = (long)((target - (target / 32) - ChunkHeader.Size) / perReading);
        if (head.Count < 1024 && aim > head.Count * 3L / 2)
        {
            aim = head.Count + ((aim - head.Count) * 3 / 4);
        }

        head.NextSizeCheck = (int)Math.Clamp(aim, head.Count + 1, head.Count * 4L);
        return false;
    }

    /// <summary>
    /// A reading at or before the closed-through mark: into the chunk whose range holds it, else
    /// into a neighbour that stays within the bounds, else into a new chunk of its own.
    /// </summary>
    private bool RouteLate(SeriesState series, long timestamp, double value, long lsn)
    {
        int index = series.FindChunkAtOrBefore(timestamp);
        if (index >= 0 && timestamp <= series.Chunks[index].LastTimestamp)
        {
            return MergeInto(series, index, timestamp, value, lsn);
        }

        long span = _options.ChunkSpanMs;
        if (index >= 0)
        {
            ChunkEntry previous = series.Chunks[index];
            if (previous.Count < _options.ChunkReadingsMax && timestamp - previous.FirstTimestamp < span)
            {
                return MergeInto(series, index, timestamp, value, lsn);
            }
        }

        if (index + 1 < series.Chunks.Count)
        {
            ChunkEntry next = series.Chunks[index + 1];
            if (next.Count < _options.ChunkReadingsMax && next.LastTimestamp - timestamp < span)
            {
                return MergeInto(series, index + 1, timestamp, value, lsn);
            }
        }

        var buffer = new ChunkBuffer(16);
        buffer.Insert(timestamp, value);
        series.Chunks.Insert(index + 1, new ChunkEntry(_nextChunkId++, default, null) { Pending = buffer, Dirty = _recordChanges, LastChangedLsn = lsn });
        return true;
    }

    /// <summary>
    /// Inserts into a closed chunk (decoding it first). A chunk that grows past the readings bound
    /// splits in two at once, so chunk ids and boundaries depend only on the order of operations.
    /// </summary>
    private bool MergeInto(SeriesState series, int index, long timestamp, double value, long lsn)
    {
        ChunkEntry chunk = series.Chunks[index];
        ChunkBuffer pending = EnsurePending(series, chunk);
        chunk.Dirty = _recordChanges;
        chunk.LastChangedLsn = lsn;
        bool added = pending.Insert(timestamp, value);
        if (pending.Count > _options.ChunkReadingsMax)
        {
            int keep = pending.Count / 2;
            var upper = new ChunkBuffer(pending.Count - keep + 16);
            for (int i = keep; i < pending.Count; i++)
            {
                upper.Insert(pending.Timestamps[i], pending.Values[i]);
            }

            pending.Truncate(keep);
            series.Chunks.Insert(index + 1, new ChunkEntry(_nextChunkId++, default, null) { Pending = upper, Dirty = _recordChanges, LastChangedLsn = lsn });
        }

        return added;
    }

    private ChunkBuffer EnsurePending(SeriesState series, ChunkEntry chunk)
    {
        if (chunk.Pending is { } existing)
        {
            return existing;
        }

        var buffer = new ChunkBuffer(chunk.Header.Count + 16);
        try
        {
            buffer.LoadFrom(GetBytes(series, chunk), "chunk");
        }
        catch (EdgeCorruptionException e)
        {
            buffer.Dispose();
            throw WithContext(series, chunk, e);
        }

        chunk.Pending = buffer;
        chunk.Bytes = null;
        return buffer;
    }

    private void SealHead(SeriesState series, long lsn)
    {
        ChunkBuffer head = series.Head;
        series.ClosedThrough = Math.Max(series.ClosedThrough, head.LastTimestamp);
        if (!_recordChanges)
        {
            // A replica that never persists keeps the sealed readings decoded: the checkpoint that
            // stores this chunk hands its header over (ReleaseCheckpointed), so it is encoded once.
            series.Chunks.Add(new ChunkEntry(_nextChunkId++, default, null) { Pending = series.DetachHead(), LastChangedLsn = lsn });
            return;
        }

        byte[] bytes = head.TakeEncoding(series.SeriesId);
        // Check the record right after writing it: header, CRC and layout.
        ChunkHeader header = ChunkHeader.Read(bytes);
        series.Chunks.Add(new ChunkEntry(_nextChunkId++, header, bytes) { Dirty = true, LastChangedLsn = lsn });
        series.Dirty = true;
        head.Clear();
    }

    /// <summary>Encodes a chunk whose readings are held decoded (its structure does not change).</summary>
    private static void EncodePending(SeriesState series, ChunkEntry chunk, ChunkBuffer pending)
    {
        byte[] bytes = pending.TakeEncoding(series.SeriesId);
        chunk.Header = ChunkHeader.Read(bytes);
        chunk.Bytes = bytes;
        chunk.Pending = null;
        pending.Dispose();
    }

    private void RecordDeleted(long chunkId)
    {
        if (_recordChanges)
        {
            _deletedChunkIds.Add(chunkId);
        }
    }

    private byte[] GetBytes(SeriesState series, ChunkEntry chunk)
    {
        if (chunk.Bytes is { } bytes)
        {
            return bytes;
        }

        if (_source is null)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, $"series '{series.Name}' chunk {chunk.ChunkId}", "the chunk has no stored bytes");
        }

        // Not cached: the memory stays bounded by the index; the bytes are read per query.
        return _source.LoadChunk(series.SeriesId, chunk.ChunkId);
    }

    private static EdgeCorruptionException WithContext(SeriesState series, ChunkEntry chunk, EdgeCorruptionException e) =>
        new(e.Code, $"series '{series.Name}' chunk {chunk.ChunkId}: {e.Location}", e.Message, e);

    private static void AddRange(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, long from, long to, List<TimeSeriesReading> output)
    {
        int start = LowerBound(timestamps, from);
        for (int i = start; i < timestamps.Length && timestamps[i] < to; i++)
        {
            output.Add(new TimeSeriesReading(timestamps[i], values[i]));
        }
    }

    internal static int LowerBound(ReadOnlySpan<long> timestamps, long value)
    {
        int index = timestamps.BinarySearch(value);
        return index >= 0 ? index : ~index;
    }

    private static TimeSeriesInfo Describe(List<SeriesState> streams)
    {
        long count = 0;
        long? first = null;
        long? last = null;
        int chunks = 0;
        long bytes = 0;
        foreach (SeriesState series in streams)
        {
            count += series.Count;
            chunks += series.Chunks.Count;
            long? streamFirst = series.Chunks.Count > 0 ? series.Chunks[0].FirstTimestamp : series.Head.Count > 0 ? series.Head.FirstTimestamp : null;
            long? streamLast = series.Head.Count > 0 ? series.Head.LastTimestamp : series.Chunks.Count > 0 ? series.Chunks[^1].LastTimestamp : null;
            if (streamFirst is { } f && (first is null || f < first))
            {
                first = f;
            }

            if (streamLast is { } l && (last is null || l > last))
            {
                last = l;
            }

            foreach (ChunkEntry chunk in series.Chunks)
            {
                bytes += chunk.Pending is null ? chunk.Header.TotalBytes : 0;
            }
        }

        return new TimeSeriesInfo(streams[0].Name, count, first ?? 0, last ?? 0, chunks, bytes);
    }

    private static void ValidateRange(long from, long to)
    {
        if (from >= to)
        {
            throw new EdgeException(EdgeErrorCode.TimeSeriesQueryInvalid, $"The range [{from}, {to}) is empty: 'from' must be below 'to'.");
        }
    }

    [Conditional("DEBUG")]
    private static void AssertInvariants(SeriesState series)
    {
        for (int i = 1; i < series.Chunks.Count; i++)
        {
            Debug.Assert(series.Chunks[i - 1].LastTimestamp < series.Chunks[i].FirstTimestamp, $"chunks {i - 1} and {i} of '{series.Name}' overlap");
        }

        if (series.Chunks.Count > 0)
        {
            Debug.Assert(series.Chunks[^1].LastTimestamp <= series.ClosedThrough, $"the last chunk of '{series.Name}' ends after the closed-through mark");
        }

        if (series.Head.Count > 0)
        {
            Debug.Assert(series.Head.FirstTimestamp > series.ClosedThrough, $"the head of '{series.Name}' starts at or before its closed-through mark");
            Debug.Assert(series.Head.FirstTimestamp >= series.RetentionFloor, $"the head of '{series.Name}' holds readings below the retention floor");
        }
    }
}
