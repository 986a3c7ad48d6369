using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Tests.Mqtt;

public sealed class MqttReconnectBackoffTests
{
    [Fact]
    public void GetDelay_DoublesPerAttemptWithinJitterAndCapsAtMaximum()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int s) ? s : Random.Shared.Next();
        var random = new Random(seed);
        var min = TimeSpan.FromMilliseconds(100);
        var max = TimeSpan.FromSeconds(10);
        for (int attempt = 0; attempt < 40; attempt++)
        {
            double ceiling = Math.Min(max.TotalMilliseconds, 100 * Math.Pow(2, attempt));
            for (int sample = 0; sample < 50; sample++)
            {
                double delay = MqttReconnectBackoff.GetDelay(attempt, min, max, random).TotalMilliseconds;
                Assert.True(delay >= ceiling / 2 && delay <= ceiling, $"seed {seed}: attempt {attempt} gave {delay} ms, expected [{ceiling / 2}, {ceiling}]");
            }
        }
    }

    [Fact]
    public void GetDelay_IsJittered_NotLockStep()
    {
        var random = new Random(1);
        var delays = Enumerable.Range(0, 20).Select(_ => MqttReconnectBackoff.GetDelay(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), random)).ToHashSet();
        Assert.True(delays.Count > 15);
    }
}
