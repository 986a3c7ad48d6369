using System.Buffers;
using CortexEdge.Core.State;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>
/// Time series: append-only readings (series, timestamp in ms, value) stored as Gorilla-compressed
/// chunks. Rules (ordering, duplicates, NaN, retention) are in docs/timeseries.md.
/// </summary>
public sealed partial class EdgeDatabase
{
    private readonly TimeSeriesStateModule _timeSeries;

    /// <summary>The time-series state module (tests drive its checkpoint hooks directly).</summary>
    internal TimeSeriesStateModule TimeSeriesModule => _timeSeries;

    /// <summary>Appends one reading. See <see cref="AppendAsync(string, ReadOnlySpan{TimeSeriesReading}, CancellationToken)"/>.</summary>
    public ValueTask<TimeSeriesAppendResult> AppendAsync(string series, long timestampMs, double value, CancellationToken cancellationToken = default) =>
        AppendAsync(series, [new TimeSeriesReading(timestampMs, value)], cancellationToken);

    /// <summary>
    /// Appends readings of one series as ONE WAL record, in any timestamp order. A reading whose
    /// timestamp this database already wrote to the series replaces that value (last write wins,
    /// also within the batch); readings other replicas wrote at the same timestamp are kept beside
    /// it (readings are keyed by timestamp and origin); one older than the series' retention floor is rejected and counted in
    /// <see cref="TimeSeriesAppendResult.Expired"/>. Visible to reads when the call returns;
    /// the task completes once the record is acknowledged in the database's durability mode.
    /// Thread-safe.
    /// </summary>
    /// <param name="series">The series name (1..256 UTF-8 bytes, no control characters); created on first use.</param>
    /// <param name="readings">1..<see cref="TimeSeriesLimits.BatchReadingsMax"/> readings; timestamps in ms since the Unix epoch.</param>
    /// <param name="cancellationToken">Cancels the durable wait only; the readings are applied either way.</param>
    /// <exception cref="EdgeException">TimeSeriesNameInvalid, TimeSeriesTimestampOutOfRange, TimeSeriesBatchTooLarge (nothing is written);
    /// DatabaseFaulted, WalQuotaExceeded, WalRecordTooLarge, DiskFull.</exception>
    public ValueTask<TimeSeriesAppendResult> AppendAsync(string series, ReadOnlySpan<TimeSeriesReading> readings, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        TimeSeriesLimits.ValidateSeriesName(series);
        ValidateReadings(series, readings, readings.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(OperationHeader.EncodedBytes + TimeSeriesBatchCodec.MaxAppendBytes(1, readings.Length));
        try
        {
            int length = TimeSeriesBatchCodec.WriteAppend(buffer.AsSpan(OperationHeader.EncodedBytes), series, readings);
            return AppendTimeSeries(buffer.AsSpan(0, OperationHeader.EncodedBytes + length), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Appends readings of several series as ONE WAL record (a gateway's poll of all its sensors).
    /// Rules as for <see cref="AppendAsync(string, ReadOnlySpan{TimeSeriesReading}, CancellationToken)"/>; groups apply in order.
    /// </summary>
    /// <exception cref="EdgeException">As for the single-series append; the batch limit counts readings of all groups.</exception>
    public ValueTask<TimeSeriesAppendResult> AppendAsync(IReadOnlyList<(string Series, ReadOnlyMemory<TimeSeriesReading> Readings)> batch, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            throw new EdgeException(EdgeErrorCode.TimeSeriesBatchTooLarge, "A batch needs at least one series group.");
        }

        int total = 0;
        foreach ((string series, ReadOnlyMemory<TimeSeriesReading> readings) in batch)
        {
            TimeSeriesLimits.ValidateSeriesName(series);
            total += readings.Length;
            ValidateReadings(series, readings.Span, total);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(OperationHeader.EncodedBytes + TimeSeriesBatchCodec.MaxAppendBytes(batch.Count, total));
        try
        {
            int length = TimeSeriesBatchCodec.WriteAppend(buffer.AsSpan(OperationHeader.EncodedBytes), batch);
            return AppendTimeSeries(buffer.AsSpan(0, OperationHeader.EncodedBytes + length), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The readings of <paramref name="series"/> with timestamps in [<paramref name="fromMs"/>,
    /// <paramref name="toMs"/>), ordered by timestamp, then origin replica (several replicas may
    /// have written one timestamp); empty when the series does not exist. Sees
    /// every append that returned. Thread-safe.
    /// </summary>
    /// <exception cref="EdgeException">TimeSeriesQueryInvalid when the range is empty.</exception>
    /// <exception cref="EdgeCorruptionException">A stored chunk fails its checks (names series and chunk).</exception>
    public List<TimeSeriesReading> ReadRange(string series, long fromMs, long toMs)
    {
        var output = new List<TimeSeriesReading>();
        ReadRange(series, fromMs, toMs, output);
        return output;
    }

    /// <summary>
    /// Like <see cref="ReadRange(string, long, long)"/>, with the replica that wrote each reading
    /// (<see cref="ReplicaId"/> for this database's own appends): readings of several replicas at
    /// one timestamp are all kept, ordered by origin (unsigned).
    /// </summary>
    /// <exception cref="EdgeException">TimeSeriesQueryInvalid when the range is empty.</exception>
    /// <exception cref="EdgeCorruptionException">A stored chunk fails its checks (names series and chunk).</exception>
    public List<(TimeSeriesReading Reading, ulong Origin)> ReadRangeWithOrigins(string series, long fromMs, long toMs)
    {
        ThrowIfDisposed();
        var readings = new List<TimeSeriesReading>();
        var origins = new List<ulong>();
        _timeSeries.Read(store => store.ReadRange(series, fromMs, toMs, readings, origins));
        var output = new List<(TimeSeriesReading, ulong)>(readings.Count);
        for (int i = 0; i < readings.Count; i++)
        {
            output.Add((readings[i], origins[i]));
        }

        return output;
    }

    /// <summary>Like <see cref="ReadRange(string, long, long)"/>, appending to a caller's list (reuse it to avoid allocations).</summary>
    /// <returns>The number of readings appended.</returns>
    public int ReadRange(string series, long fromMs, long toMs, List<TimeSeriesReading> output)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(output);
        return _timeSeries.Read(store => store.ReadRange(series, fromMs, toMs, output));
    }

    /// <summary>
    /// Aggregates of <paramref name="series"/> in [<paramref name="fromMs"/>, <paramref name="toMs"/>)
    /// per <paramref name="bucket"/>-wide interval aligned to multiples of the width since the Unix
    /// epoch; intervals without readings are left out. NaN readings count but are not aggregated.
    /// Closed chunks lying inside one bucket are answered from their headers without decoding.
    /// </summary>
    /// <exception cref="EdgeException">TimeSeriesQueryInvalid when the range is empty or the bucket is under 1 ms.</exception>
    /// <exception cref="EdgeCorruptionException">A stored chunk fails its checks.</exception>
    public List<TimeSeriesBucket> Downsample(string series, long fromMs, long toMs, TimeSpan bucket)
    {
        ThrowIfDisposed();
        long bucketMs = (long)bucket.TotalMilliseconds;
        var output = new List<TimeSeriesBucket>();
        _timeSeries.Read(store => store.Downsample(series, fromMs, toMs, bucketMs, output));
        return output;
    }

    /// <summary>Every series with its reading count, time range and closed chunks, ordered by name (ordinal).</summary>
    public IReadOnlyList<TimeSeriesInfo> ListSeries()
    {
        ThrowIfDisposed();
        return _timeSeries.Read(store => store.ListSeries());
    }

    /// <summary>Describes one series; false when it does not exist.</summary>
    public bool TryGetSeries(string series, out TimeSeriesInfo info)
    {
        ThrowIfDisposed();
        (bool found, TimeSeriesInfo result) = _timeSeries.Read(store => (store.TryGetInfo(series, out TimeSeriesInfo i), i));
        info = result;
        return found;
    }

    /// <summary>
    /// Retention for one series: drops, as one WAL record, every chunk whose readings are all older
    /// than <paramref name="cutoffMs"/> (whole chunks only, so some older readings may remain in a
    /// chunk that also holds newer ones), and from then on rejects readings older than the cutoff.
    /// </summary>
    /// <returns>Chunks and readings dropped, readings kept; all zero when the series does not exist.</returns>
    /// <exception cref="EdgeException">TimeSeriesNameInvalid, TimeSeriesTimestampOutOfRange, DatabaseFaulted, WalQuotaExceeded, DiskFull.</exception>
    public async ValueTask<TimeSeriesRetentionResult> DropOlderThanAsync(string series, long cutoffMs, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        TimeSeriesLimits.ValidateSeriesName(series);
        TimeSeriesLimits.ValidateTimestamp(cutoffMs);
        byte[] buffer = new byte[OperationHeader.EncodedBytes + TimeSeriesBatchCodec.MaxSeriesOperationBytes];
        int length = TimeSeriesBatchCodec.WriteDropBefore(buffer.AsSpan(OperationHeader.EncodedBytes), series, cutoffMs);
        WriteReceipt receipt = AppendOperation(WalRecordKind.TimeSeriesBatch, buffer.AsSpan(0, OperationHeader.EncodedBytes + length));
        TimeSeriesRetentionResult result = TimeSeriesStateModule.LastRetentionResult;
        await WaitForDurableAsync(receipt.Lsn, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Retention by age: <see cref="DropOlderThanAsync"/> with the cutoff at the database clock's
    /// current time minus <paramref name="maxAge"/>. The cutoff is logged, so replay gives the same result.
    /// </summary>
    public ValueTask<TimeSeriesRetentionResult> EnforceRetentionAsync(string series, TimeSpan maxAge, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAge, TimeSpan.Zero);
        long now = (Options.TimeProvider ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds();
        return DropOlderThanAsync(series, now - (long)maxAge.TotalMilliseconds, cancellationToken);
    }

    /// <summary>Deletes a series and all its readings (one WAL record). Appending to the name later starts a new series.</summary>
    /// <returns>The number of readings removed, or -1 when the series did not exist.</returns>
    /// <exception cref="EdgeException">TimeSeriesNameInvalid, DatabaseFaulted, WalQuotaExceeded, DiskFull.</exception>
    public async ValueTask<long> DeleteSeriesAsync(string series, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        TimeSeriesLimits.ValidateSeriesName(series);
        byte[] buffer = new byte[OperationHeader.EncodedBytes + TimeSeriesBatchCodec.MaxSeriesOperationBytes];
        int length = TimeSeriesBatchCodec.WriteDeleteSeries(buffer.AsSpan(OperationHeader.EncodedBytes), series);
        WriteReceipt receipt = AppendOperation(WalRecordKind.TimeSeriesBatch, buffer.AsSpan(0, OperationHeader.EncodedBytes + length));
        long removed = TimeSeriesStateModule.LastDeleteResult;
        await WaitForDurableAsync(receipt.Lsn, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    private ValueTask<TimeSeriesAppendResult> AppendTimeSeries(Span<byte> payload, CancellationToken cancellationToken)
    {
        if (CheckpointLagging(out long lagTarget))
        {
            return AppendTimeSeriesAfterCheckpointAsync(payload.ToArray(), lagTarget, cancellationToken);
        }

        WriteReceipt receipt = AppendOperation(WalRecordKind.TimeSeriesBatch, payload);
        // Apply ran on this thread inside AppendOperation: its result is in the thread-static slot.
        TimeSeriesAppendResult result = TimeSeriesStateModule.LastAppendResult;
        ValueTask wait = WaitForDurableAsync(receipt.Lsn, cancellationToken);
        return wait.IsCompletedSuccessfully ? ValueTask.FromResult(result) : AwaitAppend(wait, result);
    }

    private async ValueTask<TimeSeriesAppendResult> AppendTimeSeriesAfterCheckpointAsync(byte[] payload, long checkpointLsn, CancellationToken cancellationToken)
    {
        await _checkpointer.WaitForCheckpointAsync(checkpointLsn, cancellationToken).ConfigureAwait(false);
        WriteReceipt receipt = AppendOperation(WalRecordKind.TimeSeriesBatch, payload);
        TimeSeriesAppendResult result = TimeSeriesStateModule.LastAppendResult;
        await WaitForDurableAsync(receipt.Lsn, cancellationToken).ConfigureAwait(false);
        return result;
    }

    private static async ValueTask<TimeSeriesAppendResult> AwaitAppend(ValueTask wait, TimeSeriesAppendResult result)
    {
        await wait.ConfigureAwait(false);
        return result;
    }

    private static void ValidateReadings(string series, ReadOnlySpan<TimeSeriesReading> readings, int batchTotal)
    {
        if (readings.IsEmpty || batchTotal > TimeSeriesLimits.BatchReadingsMax)
        {
            throw new EdgeException(EdgeErrorCode.TimeSeriesBatchTooLarge,
                $"A batch carries 1..{TimeSeriesLimits.BatchReadingsMax} readings; series '{series}' brings it to {batchTotal} (group of {readings.Length}).");
        }

        foreach (TimeSeriesReading reading in readings)
        {
            TimeSeriesLimits.ValidateTimestamp(reading.Timestamp);
        }
    }
}
