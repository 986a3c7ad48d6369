using System.Diagnostics;
using CortexEdge.Agent.Configuration;
using CortexEdge.Agent.Ingest;
using CortexEdge.Core;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Agent.Tests.Ingest;

/// <summary>Ingest end to end: mosquitto_pub -> real mosquitto -> our MQTT client -> rules -> time series.</summary>
public sealed class SensorIngestTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ce-ingest-").FullName;
    private MosquittoBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await MosquittoBroker.StartAsync();

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static readonly IngestConfig Rules = new()
    {
        Rules =
        [
            new IngestRuleConfig { Topic = "sensors/+/temp", Series = "{1}.temp", Format = "number" },
            new IngestRuleConfig { Topic = "meters/+/json", Series = "meters.{1}", Format = "json", ValuePath = "r.v", TimestampPath = "ts", TimestampUnit = "ms" },
            new IngestRuleConfig { Topic = "loggers/#", Series = "log.{1}", Format = "lines", TimestampUnit = "s" },
        ],
    };

    private async Task PublishAsync(string topic, string payload)
    {
        var info = new ProcessStartInfo("mosquitto_pub") { RedirectStandardError = true };
        foreach (string arg in new[] { "-h", _broker.Host, "-p", _broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-q", "1", "-t", topic, "-m", payload })
        {
            info.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(info)!;
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"mosquitto_pub failed: {error}");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"timed out waiting for {what()}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task EveryFormat_IsStoredAndMalformedPayloadsAreCountedWithoutStoppingIngest()
    {
        using var database = EdgeDatabase.Open(Path.Combine(_directory, "db"));
        IReadOnlyList<IngestRule> rules = IngestRule.FromConfig(Rules);
        await using var client = new MqttClient(new MqttClientOptions { Host = _broker.Host, Port = _broker.Port });
        await client.ConnectAsync();
        // Everything, not just the rules' filters, so that unmatched messages are seen and counted.
        await client.SubscribeAsync("#", MqttQualityOfService.AtLeastOnce);

        var ingest = new SensorIngest(database, rules, new SensorIngestOptions { BatchMaxDelay = TimeSpan.FromMilliseconds(20) });
        using var stop = new CancellationTokenSource();
        Task pump = ingest.RunAsync(client.Messages, stop.Token);

        await PublishAsync("sensors/boiler/temp", "21.5");
        await PublishAsync("sensors/boiler/temp", "warm");            // malformed: counted, ingest goes on
        await PublishAsync("meters/m1/json", """{"r":{"v":3.25},"ts":1700000000000}""");
        await PublishAsync("meters/m1/json", """{"r":{}}""");          // malformed
        await PublishAsync("loggers/site1", "1700000000,1.5\n1700000001,2.5\n");
        await PublishAsync("unrelated/topic", "1");                   // no rule
        await PublishAsync("sensors/boiler/temp", "22.0");

        await WaitUntilAsync(
            () => ingest.StoredReadings == 5 && ingest.UnmatchedMessages == 1 && rules.Sum(r => r.ParseErrors) == 2,
            () => $"5 readings stored, 2 refused, 1 unmatched; have {ingest.StoredReadings} stored, {ingest.PendingReadings} pending, {rules.Sum(r => r.ParseErrors)} refused, {ingest.UnmatchedMessages} unmatched, {rules.Sum(r => r.Messages)} messages");
        stop.Cancel();
        await pump;

        Assert.Equal([21.5, 22.0], database.ReadRange("boiler.temp", long.MinValue, long.MaxValue).Select(r => r.Value));
        Assert.Equal(new TimeSeriesReading(1_700_000_000_000, 3.25), Assert.Single(database.ReadRange("meters.m1", long.MinValue, long.MaxValue)));
        Assert.Equal([new TimeSeriesReading(1_700_000_000_000, 1.5), new TimeSeriesReading(1_700_000_001_000, 2.5)], database.ReadRange("log.site1", long.MinValue, long.MaxValue));
        Assert.Equal(1, rules[0].ParseErrors);
        Assert.Equal(1, rules[1].ParseErrors);
        Assert.Equal(0, rules[2].ParseErrors);
    }

    [Fact]
    public async Task ManyReadings_AreWrittenInFewBatches_AndSurviveReopen()
    {
        string path = Path.Combine(_directory, "db2");
        IReadOnlyList<IngestRule> rules = IngestRule.FromConfig(Rules);
        const int count = 5000;
        using (var database = EdgeDatabase.Open(path))
        {
            var ingest = new SensorIngest(database, rules, new SensorIngestOptions { BatchMaxReadings = 1000, BatchMaxDelay = TimeSpan.FromMilliseconds(50) });
            var channel = System.Threading.Channels.Channel.CreateUnbounded<MqttMessage>();
            Task pump = ingest.RunAsync(channel.Reader);
            for (int i = 0; i < count; i++)
            {
                Assert.True(ingest.Accept($"sensors/s{i % 5}/temp", System.Text.Encoding.ASCII.GetBytes((i * 0.5).ToString(System.Globalization.CultureInfo.InvariantCulture))));
            }

            channel.Writer.Complete();
            await pump; // completes after writing everything pending
            Assert.Equal(count, ingest.StoredReadings);
            Assert.InRange(ingest.Batches, 1, count / 100);
        }

        using var reopened = EdgeDatabase.Open(path);
        int total = Enumerable.Range(0, 5).Sum(s => reopened.ReadRange($"s{s}.temp", long.MinValue, long.MaxValue).Count);
        Assert.True(total > 0 && total <= count, $"{total} readings after reopen");
    }

    [Fact]
    public async Task BurstWithinOneMillisecond_KeepsEveryReading()
    {
        using var database = EdgeDatabase.Open(Path.Combine(_directory, "db3"));
        var frozen = new FrozenTime(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var ingest = new SensorIngest(database, IngestRule.FromConfig(Rules), time: frozen);
        for (int i = 0; i < 50; i++)
        {
            Assert.True(ingest.Accept("sensors/burst/temp", System.Text.Encoding.ASCII.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        await ingest.FlushAsync();
        List<TimeSeriesReading> stored = database.ReadRange("burst.temp", long.MinValue, long.MaxValue);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (double)i), stored.Select(r => r.Value));
        Assert.Equal(1_700_000_000_000, stored[0].Timestamp);
        Assert.Equal(1_700_000_000_049, stored[^1].Timestamp);
        await ingest.DisposeAsync();
    }

    [Fact]
    public async Task PrioritySeries_AreWrittenAsTheirOwnRecordFirst_SoSyncCountsThemApart()
    {
        using var database = EdgeDatabase.Open(Path.Combine(_directory, "db4"));
        var ingest = new SensorIngest(database, IngestRule.FromConfig(Rules), new SensorIngestOptions { IsPrioritySeries = name => name.StartsWith("alarm", StringComparison.Ordinal) });
        foreach (string sensor in new[] { "boiler", "alarm1", "hall", "alarm2" })
        {
            Assert.True(ingest.Accept($"sensors/{sensor}/temp", "21.5"u8));
        }

        await ingest.FlushAsync();
        Assert.Equal(4, ingest.StoredReadings);
        var store = new CortexEdge.Sync.Sync.EdgeDatabaseSyncStore(database, name => name.StartsWith("alarm", StringComparison.Ordinal));
        CortexEdge.Sync.Sync.SyncBacklog backlog = store.GetBacklog(0, DateTimeOffset.UtcNow);
        Assert.Equal((1L, 1L), (backlog.Priority.Ops, backlog.Priority.HighestSeq)); // the alarms' record, written first
        Assert.Equal((1L, 2L), (backlog.Normal.Ops, backlog.Normal.HighestSeq));
        Assert.Single(database.ReadRange("alarm2.temp", long.MinValue, long.MaxValue));
        Assert.Single(database.ReadRange("hall.temp", long.MinValue, long.MaxValue));
        await ingest.DisposeAsync();
    }

    [Fact]
    public async Task Messages_AreAcknowledgedOnlyOnceWritten_WhatACrashLeftUnwrittenComesBackToTheNextSession()
    {
        MqttClientOptions Session(bool manual) => _broker.PersistentSessionOptions("ce-ingest-ack-test", manual);

        // Session 1 receives three readings and "crashes" before its batch is written (1 h delay).
        using var database = EdgeDatabase.Open(Path.Combine(_directory, "db5"));
        var first = new MqttClient(Session(manual: true));
        await first.ConnectAsync();
        await first.SubscribeAsync("sensors/+/temp", MqttQualityOfService.AtLeastOnce);
        var crashed = new SensorIngest(database, IngestRule.FromConfig(Rules), new SensorIngestOptions { BatchMaxDelay = TimeSpan.FromHours(1) });
        var delivered = System.Threading.Channels.Channel.CreateUnbounded<MqttMessage>();
        Task crashedPump = crashed.RunAsync(delivered.Reader);
        var held = new List<MqttMessage>();
        foreach (string value in new[] { "1.5", "2.5", "3.5" })
        {
            await PublishAsync("sensors/kiln/temp", value);
            MqttMessage message = await first.Messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            held.Add(message);
            await delivered.Writer.WriteAsync(message);
        }

        await WaitUntilAsync(() => crashed.PendingReadings == 3, () => $"3 readings staged, have {crashed.PendingReadings}");
        await first.DisposeAsync();
        Assert.False(held[0].Acknowledge()); // its connection is gone: only the broker's session can bring it back

        // Session 2 gets them again and stores them; its acknowledgements follow the write.
        await using (var second = new MqttClient(Session(manual: true)))
        {
            await second.ConnectAsync();
            var ingest = new SensorIngest(database, IngestRule.FromConfig(Rules), new SensorIngestOptions { BatchMaxDelay = TimeSpan.FromMilliseconds(20) });
            using var stop = new CancellationTokenSource();
            Task pump = ingest.RunAsync(second.Messages, stop.Token);
            await WaitUntilAsync(() => ingest.StoredReadings == 3, () => $"3 redelivered readings stored, have {ingest.StoredReadings}");
            Assert.Equal([1.5, 2.5, 3.5], database.ReadRange("kiln.temp", long.MinValue, long.MaxValue).Select(r => r.Value));
            await stop.CancelAsync();
            await pump;
        }

        // Session 3: nothing is left to redeliver.
        await using var third = new MqttClient(Session(manual: false));
        await third.ConnectAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third.Messages.ReadAsync(new CancellationTokenSource(TimeSpan.FromSeconds(1)).Token).AsTask());
        delivered.Writer.Complete();
        await crashedPump;
    }

    private sealed class FrozenTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
