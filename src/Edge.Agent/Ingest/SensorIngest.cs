using System.Threading.Channels;
using CortexEdge.Core;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Sync.Mqtt;
using Microsoft.Extensions.Logging;

namespace CortexEdge.Agent.Ingest;

/// <summary>
/// Stores what sensors publish: takes MQTT messages, maps each to a series by the first matching
/// rule, parses its payload and appends the readings in batches (one WAL record, one flush per
/// batch). A payload that does not parse is counted per rule and logged (at most once per rule per
/// <see cref="SensorIngestOptions.ParseErrorLogInterval"/>); it never stops ingest.
/// </summary>
/// <remarks>
/// Every message is acknowledged (<see cref="MqttMessage.Acknowledge"/>) only once the batch holding
/// its readings is durable, in the order received; a client with
/// <see cref="MqttClientOptions.ManualAcknowledgement"/> then leaves what a crash did not store to
/// the broker's persistent session, which redelivers it. Messages that stage nothing (no rule, a
/// refused payload) are acknowledged with the next write, after those before them.
/// Reading messages and writing batches run apart: while one batch is written the next fills, so
/// a slow flush does not stall the broker connection. Only when
/// <see cref="SensorIngestOptions.PendingReadingsMax"/> readings wait does the pump stop reading
/// (back-pressure through the client's bounded queue), since dropping them would lose data.
/// </remarks>
public sealed class SensorIngest : IAsyncDisposable
{
    private readonly EdgeDatabase _database;
    private readonly IReadOnlyList<IngestRule> _rules;
    private readonly SensorIngestOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _stagingLock = new();
    private readonly SemaphoreSlim _flushSignal = new(0);
    private readonly SemaphoreSlim _capacity = new(0);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly long[] _lastErrorLog;
    private readonly string[] _captures;
    private readonly Dictionary<string, long> _lastArrival = new(StringComparer.Ordinal);
    private readonly List<TimeSeriesReading> _parsed = new(4); // the pump's scratch: one message's readings
    private Dictionary<string, List<TimeSeriesReading>> _staging = new(StringComparer.Ordinal);
    private List<MqttMessage> _unacknowledged = []; // in arrival order; taken with the staging they fed
    private int _stagedCount;
    private long _firstStagedTimestamp;
    private long _unmatched;
    private long _stored;
    private long _batches;
    private long _writeErrors;
    private Task? _flusher;
    private CancellationTokenSource? _stop;

    /// <summary>Creates an ingest pipeline writing into <paramref name="database"/>.</summary>
    public SensorIngest(EdgeDatabase database, IReadOnlyList<IngestRule> rules, SensorIngestOptions? options = null, ILogger? logger = null, TimeProvider? time = null)
    {
        _database = database;
        _rules = rules;
        _options = options ?? new SensorIngestOptions();
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _lastErrorLog = new long[rules.Count];
        _captures = new string[Math.Max(1, rules.Count == 0 ? 1 : rules.Max(r => r.Pattern.WildcardCount))];
    }

    /// <summary>The rules, with their per-rule counters.</summary>
    public IReadOnlyList<IngestRule> Rules => _rules;

    /// <summary>Messages no rule matched.</summary>
    public long UnmatchedMessages => Interlocked.Read(ref _unmatched);

    /// <summary>Readings written to the database and acknowledged.</summary>
    public long StoredReadings => Interlocked.Read(ref _stored);

    /// <summary>Batches written.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Batches whose write failed (their readings are retried with the next batch).</summary>
    public long WriteErrors => Interlocked.Read(ref _writeErrors);

    /// <summary>Readings parsed but not yet written.</summary>
    public int PendingReadings => Volatile.Read(ref _stagedCount);

    /// <summary>Pumps <paramref name="messages"/> until the channel completes or the token is cancelled, then writes what is pending.</summary>
    public async Task RunAsync(ChannelReader<MqttMessage> messages, CancellationToken cancellationToken = default)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _flusher = Task.Run(() => FlushLoopAsync(_stop.Token), CancellationToken.None);
        try
        {
            while (await messages.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (messages.TryRead(out MqttMessage? message))
                {
                    if (!Accept(message.Topic, message.Payload.Span, message))
                    {
                        lock (_stagingLock)
                        {
                            _unacknowledged.Add(message); // in order, acknowledged with the next write
                        }

                        if (Volatile.Read(ref _stagedCount) == 0)
                        {
                            _flushSignal.Release(); // nothing to write: acknowledge it without waiting for a batch
                        }
                    }

                    while (Volatile.Read(ref _stagedCount) >= _options.PendingReadingsMax)
                    {
                        _flushSignal.Release();
                        await _capacity.WaitAsync(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown: fall through and write what is pending.
        }
        finally
        {
            await StopFlusherAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Maps one message to its rule and stages its readings. Returns false when no rule matched or
    /// the payload did not parse (both counted). Called by one thread at a time (the pump).
    /// </summary>
    public bool Accept(string topic, ReadOnlySpan<byte> payload) => Accept(topic, payload, null);

    /// <param name="message">The message the payload came in, staged with its readings for acknowledgement.</param>
    private bool Accept(string topic, ReadOnlySpan<byte> payload, MqttMessage? message)
    {
        Span<string> captures = _captures;
        for (int i = 0; i < _rules.Count; i++)
        {
            IngestRule rule = _rules[i];
            if (!rule.Pattern.TryMatch(topic, captures))
            {
                continue;
            }

            string series = rule.Series.Format(captures[..rule.Pattern.WildcardCount]);
            // Payloads without a timestamp are stamped on arrival. Stamps are kept strictly
            // increasing per series: a burst within one millisecond would otherwise collide,
            // and a duplicate timestamp replaces the earlier reading (docs/timeseries.md).
            long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            long arrival = _lastArrival.TryGetValue(series, out long last) && now <= last ? last + 1 : now;
            List<TimeSeriesReading> readings = _parsed;
            readings.Clear();
            if (!rule.Parser.TryParse(payload, arrival, readings, out string? error))
            {
                long errors = rule.CountParseError();
                LogParseError(i, rule, topic, error!, errors);
                return false;
            }

            if (readings.Count == 1 && readings[0].Timestamp == arrival)
            {
                _lastArrival[series] = arrival;
            }

            rule.CountMessage(readings.Count);
            Stage(series, readings, message);
            return true;
        }

        Interlocked.Increment(ref _unmatched);
        return false;
    }

    private void Stage(string series, List<TimeSeriesReading> readings, MqttMessage? message)
    {
        int staged;
        lock (_stagingLock)
        {
            if (message is not null)
            {
                _unacknowledged.Add(message); // in the same lock as its readings: taken by the same write
            }

            if (_stagedCount == 0)
            {
                _firstStagedTimestamp = _time.GetTimestamp();
            }

            if (_staging.TryGetValue(series, out List<TimeSeriesReading>? list))
            {
                list.AddRange(readings);
            }
            else
            {
                _staging[series] = new List<TimeSeriesReading>(readings); // the scratch list is reused
            }

            staged = _stagedCount += readings.Count;
        }

        if (staged == readings.Count || staged >= _options.BatchMaxReadings)
        {
            _flushSignal.Release(); // first reading starts the delay clock; a full batch goes at once
        }
    }

    private void LogParseError(int ruleIndex, IngestRule rule, string topic, string error, long errors)
    {
        long now = _time.GetTimestamp();
        long last = Volatile.Read(ref _lastErrorLog[ruleIndex]);
        if (last != 0 && _time.GetElapsedTime(last, now) < _options.ParseErrorLogInterval)
        {
            return;
        }

        Volatile.Write(ref _lastErrorLog[ruleIndex], now);
        _logger.LogWarning("ingest: payload on {Topic} refused by rule {Rule}: {Error} ({Errors} refused so far by this rule)", topic, rule.Pattern.Filter, error, errors);
    }

    private async Task FlushLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await _flushSignal.WaitAsync(cancellationToken).ConfigureAwait(false);
                // Wait out the batch delay unless the batch is already full.
                while (Volatile.Read(ref _stagedCount) is > 0 and int count && count < _options.BatchMaxReadings)
                {
                    TimeSpan waited = _time.GetElapsedTime(Volatile.Read(ref _firstStagedTimestamp));
                    TimeSpan remaining = _options.BatchMaxDelay - waited;
                    if (remaining <= TimeSpan.Zero)
                    {
                        break;
                    }

                    await _flushSignal.WaitAsync(remaining, cancellationToken).ConfigureAwait(false);
                }

                // The write itself is never cancelled half-way: readings taken from staging must be stored.
                await WritePendingAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Writes every staged reading now; completes once they are acknowledged.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default) => await WritePendingAsync(cancellationToken).ConfigureAwait(false);

    private async Task WritePendingAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Dictionary<string, List<TimeSeriesReading>> batch;
            int count;
            List<MqttMessage> messages;
            lock (_stagingLock)
            {
                batch = _staging;
                count = _stagedCount;
                messages = _unacknowledged;
                if (count > 0)
                {
                    _staging = new Dictionary<string, List<TimeSeriesReading>>(StringComparer.Ordinal);
                    _stagedCount = 0;
                }

                if (messages.Count > 0)
                {
                    _unacknowledged = [];
                }
            }

            if (count == 0)
            {
                Acknowledge(messages); // every earlier message is acknowledged or was put back with its readings
                return;
            }

            // Priority series go in their own record, first: a priority-only sync then carries them
            // without the ordinary readings of the same flush.
            List<(Dictionary<string, List<TimeSeriesReading>> Batch, int Count)> parts = Split(batch, count);
            for (int part = 0; part < parts.Count; part++)
            {
                var items = new List<(string Series, ReadOnlyMemory<TimeSeriesReading> Readings)>(parts[part].Batch.Count);
                foreach (var (series, readings) in parts[part].Batch)
                {
                    items.Add((series, readings.ToArray()));
                }

                try
                {
                    await _database.AppendAsync(items, cancellationToken).ConfigureAwait(false);
                    Interlocked.Add(ref _stored, parts[part].Count);
                    Interlocked.Increment(ref _batches);
                    _options.AfterWrite?.Invoke();
                }
                catch (OperationCanceledException)
                {
                    RestageFrom(parts, part, messages);
                    throw;
                }
                catch (EdgeException ex)
                {
                    // Not acknowledged: put the readings back in front so the next batch retries them.
                    Interlocked.Increment(ref _writeErrors);
                    _logger.LogError("ingest: writing {Count} readings failed: {Error}", parts[part].Count, ex.Message);
                    RestageFrom(parts, part, messages);
                    await Task.Delay(_options.BatchMaxDelay, cancellationToken).ConfigureAwait(false);
                    messages = [];
                    break;
                }
            }

            Acknowledge(messages);

            if (_capacity.CurrentCount == 0)
            {
                _capacity.Release();
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private List<(Dictionary<string, List<TimeSeriesReading>> Batch, int Count)> Split(Dictionary<string, List<TimeSeriesReading>> batch, int count)
    {
        if (_options.IsPrioritySeries is not { } isPriority)
        {
            return [(batch, count)];
        }

        var priority = new Dictionary<string, List<TimeSeriesReading>>(StringComparer.Ordinal);
        var other = new Dictionary<string, List<TimeSeriesReading>>(StringComparer.Ordinal);
        int priorityCount = 0;
        foreach (var (series, readings) in batch)
        {
            if (isPriority(series))
            {
                priority[series] = readings;
                priorityCount += readings.Count;
            }
            else
            {
                other[series] = readings;
            }
        }

        var parts = new List<(Dictionary<string, List<TimeSeriesReading>>, int)>(2);
        if (priority.Count > 0)
        {
            parts.Add((priority, priorityCount));
        }

        if (other.Count > 0)
        {
            parts.Add((other, count - priorityCount));
        }

        return parts;
    }

    // The parts from `first` on were not acknowledged: back in front of what was staged since.
    // Their messages too: none of the batch's messages is acknowledged until all of it is stored.
    private void RestageFrom(List<(Dictionary<string, List<TimeSeriesReading>> Batch, int Count)> parts, int first, List<MqttMessage> messages)
    {
        Dictionary<string, List<TimeSeriesReading>> batch = parts[first].Batch;
        int count = parts[first].Count;
        for (int part = first + 1; part < parts.Count; part++)
        {
            foreach (var (series, readings) in parts[part].Batch)
            {
                batch[series] = readings; // each series is in one part only
            }

            count += parts[part].Count;
        }

        Restage(batch, count, messages);
    }

    private void Restage(Dictionary<string, List<TimeSeriesReading>> batch, int count, List<MqttMessage> messages)
    {
        lock (_stagingLock)
        {
            messages.AddRange(_unacknowledged);
            _unacknowledged = messages;
            foreach (var (series, readings) in _staging)
            {
                if (batch.TryGetValue(series, out List<TimeSeriesReading>? earlier))
                {
                    earlier.AddRange(readings);
                }
                else
                {
                    batch[series] = readings;
                }
            }

            _staging = batch;
            _stagedCount += count;
        }
    }

    private static void Acknowledge(List<MqttMessage> messages)
    {
        foreach (MqttMessage message in messages)
        {
            message.Acknowledge(); // false when the client is gone: the broker redelivers it to the next session
        }
    }

    private async Task StopFlusherAsync()
    {
        if (_stop is not null)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        if (_flusher is not null)
        {
            await _flusher.ConfigureAwait(false);
        }

        await WritePendingAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopFlusherAsync().ConfigureAwait(false);
        _stop?.Dispose();
        _flushSignal.Dispose();
        _capacity.Dispose();
        _writeLock.Dispose();
    }
}
