using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;

namespace CortexEdge.Agent.Tests.Policy;

public sealed class KernelRouteTableTests
{
    private const string Sample =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
        "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" +
        "wwan0\t00000000\t00000000\t0001\t0\t0\t700\t00000000\t0\t0\t0\n" +
        "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t50\t00000000\t0\t0\t0\n" +
        "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n" +
        "eth1\t00000000\t0101A8C0\t0002\t0\t0\t10\t00000000\t0\t0\t0\n";

    [Fact]
    public void ParseDefaultRoutes_LowestMetricPerInterfaceOnlyUpDefaults()
    {
        var problems = new List<string>();
        Dictionary<string, long> routes = KernelRouteTable.ParseDefaultRoutes(Sample, problems);
        Assert.Empty(problems);
        Assert.Equal(2, routes.Count);
        Assert.Equal(50, routes["wlan0"]);
        Assert.Equal(700, routes["wwan0"]);
        Assert.False(routes.ContainsKey("eth0"));
        Assert.False(routes.ContainsKey("eth1"));
    }

    [Fact]
    public void ParseDefaultRoutes_FuzzedMutations_NeverThrows()
    {
        int seed = TestRandom.Seed();
        int iterations = TestRandom.FuzzIterations();
        var random = new Random(seed);
        char[] alphabet = "\t\n 0123456789ABCDEFxwlan-".ToCharArray();
        for (int i = 0; i < iterations; i++)
        {
            char[] text = Sample.ToCharArray();
            for (int m = random.Next(1, 8); m > 0; m--)
                text[random.Next(text.Length)] = alphabet[random.Next(alphabet.Length)];
            var problems = new List<string>();
            Dictionary<string, long> routes = KernelRouteTable.ParseDefaultRoutes(new string(text, 0, random.Next(text.Length + 1)), problems);
            Assert.True(routes.Values.All(metric => metric >= 0), $"seed {seed} iteration {i}");
        }
    }
}
