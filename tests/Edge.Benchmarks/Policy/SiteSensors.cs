using CortexEdge.Agent.Policy;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Wal;

namespace CortexEdge.Benchmarks.Policy;

/// <summary>
/// The site's sensors: per priority class a set of series, each a seeded random walk quantized to
/// two decimals (as an ADC reading would be); <see cref="Read"/> encodes one reading of every
/// series of a class as one time-series op payload (record kind byte + batch body, as sync sends it).
/// </summary>
internal sealed class SiteSensors
{
    private readonly Random _random;
    private readonly (string Series, TimeSeriesReading[] Reading, double[] Level)[][] _classes;
    private readonly List<(string Series, ReadOnlyMemory<TimeSeriesReading> Readings)>[] _groups;
    private readonly byte[] _buffer;

    public SiteSensors(int high, int normal, int low, int seed)
    {
        _random = new Random(seed);
        _classes = [Make("alarm", high), Make("env", normal), Make("diag", low)];
        _groups = new List<(string, ReadOnlyMemory<TimeSeriesReading>)>[3];
        for (int p = 0; p < 3; p++)
            _groups[p] = _classes[p].Select(c => (c.Series, (ReadOnlyMemory<TimeSeriesReading>)c.Reading)).ToList();
        _buffer = new byte[TimeSeriesBatchCodec.MaxAppendBytes(Math.Max(high, Math.Max(normal, low)), Math.Max(high, Math.Max(normal, low)))];
    }

    private (string, TimeSeriesReading[], double[])[] Make(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => ($"site1.{prefix}.{i:00}", new TimeSeriesReading[1], new[] { 20 + _random.NextDouble() * 10 })).ToArray();

    public byte[] Read(SyncPriority priority, long timestampMs)
    {
        var series = _classes[(int)priority];
        foreach (var (_, reading, level) in series)
        {
            level[0] += (_random.NextDouble() - 0.5) * 0.05;
            reading[0] = new TimeSeriesReading(timestampMs, Math.Round(level[0], 2));
        }

        int length = TimeSeriesBatchCodec.WriteAppend(_buffer, _groups[(int)priority]);
        byte[] payload = new byte[1 + length];
        payload[0] = (byte)WalRecordKind.TimeSeriesBatch;
        _buffer.AsSpan(0, length).CopyTo(payload.AsSpan(1));
        return payload;
    }
}
