using CortexEdge.Core.TimeSeries;
using System.Text;
using CortexEdge.Agent.Ingest;

namespace CortexEdge.Agent.Tests.Ingest;

public sealed class PayloadParserTests
{
    private const long Arrival = 1_700_000_000_000;

    private static (bool Ok, List<TimeSeriesReading> Readings, string? Error) Parse(PayloadParser parser, string payload)
    {
        var readings = new List<TimeSeriesReading>();
        bool ok = parser.TryParse(Encoding.UTF8.GetBytes(payload), Arrival, readings, out string? error);
        return (ok, readings, error);
    }

    [Theory]
    [InlineData("21.5", 21.5)]
    [InlineData(" -3e2\n", -300)]
    [InlineData("0", 0)]
    public void Number_ParsesAndStampsArrival(string payload, double expected)
    {
        var (ok, readings, _) = Parse(new NumberPayloadParser(), payload);
        Assert.True(ok);
        Assert.Equal(new TimeSeriesReading(Arrival, expected), Assert.Single(readings));
    }

    [Fact]
    public void Number_NaNIsKeptBitExact()
    {
        var (ok, readings, _) = Parse(new NumberPayloadParser(), "NaN");
        Assert.True(ok);
        Assert.True(double.IsNaN(readings[0].Value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("21,5")]
    [InlineData("warm")]
    [InlineData("1 2")]
    public void Number_Malformed_IsRefusedWithReason(string payload)
    {
        var (ok, readings, error) = Parse(new NumberPayloadParser(), payload);
        Assert.False(ok);
        Assert.Empty(readings);
        Assert.NotNull(error);
    }

    [Fact]
    public void Json_ReadsNestedValueAndTimestampInUnit()
    {
        var parser = new JsonPayloadParser("reading.v", "reading.ts", TimestampUnit.Seconds);
        var (ok, readings, _) = Parse(parser, """{"reading":{"v":3.25,"ts":1700000001.5}}""");
        Assert.True(ok);
        Assert.Equal(new TimeSeriesReading(1_700_000_001_500L, 3.25), Assert.Single(readings));
    }

    [Fact]
    public void Json_IsoTimestampAndNumericString()
    {
        var parser = new JsonPayloadParser("v", "t", TimestampUnit.Milliseconds);
        var (ok, readings, _) = Parse(parser, """{"v":"7.5","t":"2023-11-14T22:13:20Z"}""");
        Assert.True(ok);
        Assert.Equal(new TimeSeriesReading(1_700_000_000_000L, 7.5), Assert.Single(readings));
    }

    [Theory]
    [InlineData("""{"x":1}""")]
    [InlineData("""{"v":"abc"}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{"v":1""")]
    [InlineData("""{"v":1,"t":"yesterday"}""")]
    [InlineData("""{"v":1,"t":1e300}""")]
    public void Json_Malformed_IsRefused(string payload)
    {
        var parser = new JsonPayloadParser("v", payload.Contains("\"t\"") ? "t" : null, TimestampUnit.Milliseconds);
        var (ok, readings, error) = Parse(parser, payload);
        Assert.False(ok, payload);
        Assert.Empty(readings);
        Assert.NotNull(error);
    }

    [Fact]
    public void Lines_ParsesEveryLineAndSkipsBlanks()
    {
        var (ok, readings, _) = Parse(new LinesPayloadParser(TimestampUnit.Seconds), "1700000000,20.5\n\n1700000001,20.75\r\n");
        Assert.True(ok);
        Assert.Equal([new TimeSeriesReading(1_700_000_000_000L, 20.5), new TimeSeriesReading(1_700_000_001_000L, 20.75)], readings);
    }

    [Fact]
    public void Lines_OneBadLine_RefusesTheWholePayloadAndNamesTheLine()
    {
        var readings = new List<TimeSeriesReading> { new(1, 1) };
        bool ok = new LinesPayloadParser(TimestampUnit.Seconds).TryParse("1,2\n3;4\n"u8, Arrival, readings, out string? error);
        Assert.False(ok);
        Assert.Single(readings); // what was there before is untouched
        Assert.Contains("line 2", error);
    }

    [Fact]
    public void AllParsers_FuzzedInput_NeverThrow()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int s) ? s : Environment.TickCount;
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("CE_FUZZ_ITERATIONS"), out int n) ? n : 20000;
        var random = new Random(seed);
        PayloadParser[] parsers =
        [
            new NumberPayloadParser(),
            new JsonPayloadParser("a.b", "t", TimestampUnit.Microseconds),
            new LinesPayloadParser(TimestampUnit.Milliseconds),
        ];
        byte[][] seeds = ["""{"a":{"b":1.5},"t":"2024-01-01T00:00:00Z"}"""u8.ToArray(), "1,2\n3,4\n"u8.ToArray(), "42.0"u8.ToArray()];
        var readings = new List<TimeSeriesReading>();
        for (int i = 0; i < iterations; i++)
        {
            byte[] input = (byte[])seeds[random.Next(seeds.Length)].Clone();
            if (random.Next(4) == 0)
            {
                input = new byte[random.Next(0, 64)];
                random.NextBytes(input);
            }
            else
            {
                for (int m = random.Next(1, 4); m > 0 && input.Length > 0; m--)
                {
                    input[random.Next(input.Length)] = (byte)random.Next(256);
                }
            }

            foreach (PayloadParser parser in parsers)
            {
                readings.Clear();
                try
                {
                    bool ok = parser.TryParse(input, Arrival, readings, out string? error);
                    Assert.True(ok || error is not null, $"seed {seed}: refusal without a reason");
                    Assert.True(ok || readings.Count == 0, $"seed {seed}: refusal left readings behind");
                }
                catch (Exception ex)
                {
                    Assert.Fail($"seed {seed} (CE_TEST_SEED={seed}): {parser.GetType().Name} threw {ex.GetType().Name} on [{Convert.ToHexString(input)}]: {ex.Message}");
                }
            }
        }
    }
}
