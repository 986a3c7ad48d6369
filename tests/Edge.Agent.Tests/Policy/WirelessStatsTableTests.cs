using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;

namespace CortexEdge.Agent.Tests.Policy;

public sealed class WirelessStatsTableTests
{
    private const string Sample =
        "Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n" +
        " face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22\n" +
        " wlan0: 0000   70.  -40.  -256        0      0      0      0      0        0\n" +
        "  wlp2s0: 0000   44   -66   -256        0      0      0     12    103        0\n" +
        "mlan0: 0001   31.  190.  -92.        0      0      0      0      0        0\n";

    [Fact]
    public void Parse_SeveralInterfaces_QualityAndDbm()
    {
        var problems = new List<string>();
        Dictionary<string, WirelessStatsTable.Entry> table = WirelessStatsTable.Parse(Sample, problems);
        Assert.Empty(problems);
        Assert.Equal(3, table.Count);
        Assert.Equal(new WirelessStatsTable.Entry(70, -40), table["wlan0"]);
        Assert.Equal(new WirelessStatsTable.Entry(44, -66), table["wlp2s0"]);
        // An unsigned-byte level (190) is 190 - 256 dBm.
        Assert.Equal(new WirelessStatsTable.Entry(31, -66), table["mlan0"]);
    }

    [Theory]
    [InlineData(" wlan0 0000 70. -40. -256", "no 'interface:' prefix")]
    [InlineData(" wlan0: 0000 70.", "expected status, link, level and noise")]
    [InlineData(" wlan0: 0000 seventy -40. -256", "not a number")]
    [InlineData(" wlan0: 0000 70. -400. -256", "out of range")]
    [InlineData(" wl an0: 0000 70. -40. -256", "bad interface name")]
    [InlineData(" wlan0: 0000 70. NaN. -256", "not a number")]
    public void Parse_MalformedLine_SkippedWithProblemNamingLine(string line, string expected)
    {
        var problems = new List<string>();
        Dictionary<string, WirelessStatsTable.Entry> table = WirelessStatsTable.Parse(Sample + line + "\n", problems, "wireless-file");
        Assert.Equal(3, table.Count);
        string problem = Assert.Single(problems);
        Assert.StartsWith("wireless-file line 6:", problem);
        Assert.Contains(expected, problem);
    }

    [Fact]
    public void Parse_HeaderOnlyOrEmpty_NoEntries()
    {
        var problems = new List<string>();
        Assert.Empty(WirelessStatsTable.Parse("", problems));
        Assert.Empty(WirelessStatsTable.Parse(Sample[..Sample.IndexOf(" wlan0", StringComparison.Ordinal)], problems));
        Assert.Empty(problems);
    }

    [Fact]
    public void Parse_FuzzedMutationsOfValidText_NeverThrowsValuesSane()
    {
        int seed = TestRandom.Seed();
        int iterations = TestRandom.FuzzIterations();
        var random = new Random(seed);
        char[] alphabet = " \t\n:.-0123456789abcwlan|\r\0x".ToCharArray();
        for (int i = 0; i < iterations; i++)
        {
            char[] text = Sample.ToCharArray();
            int mutations = random.Next(1, 8);
            for (int m = 0; m < mutations; m++)
                text[random.Next(text.Length)] = alphabet[random.Next(alphabet.Length)];
            string mutated = new string(text, 0, random.Next(text.Length + 1));
            var problems = new List<string>();
            Dictionary<string, WirelessStatsTable.Entry> table = WirelessStatsTable.Parse(mutated, problems);
            foreach ((string name, WirelessStatsTable.Entry entry) in table)
            {
                Assert.True(name.Length > 0 && !name.Contains(' ', StringComparison.Ordinal), $"seed {seed} iteration {i}: name '{name}'");
                Assert.True(entry.SignalDbm is >= -200 and <= 0, $"seed {seed} iteration {i}: signal {entry.SignalDbm}");
                Assert.True(double.IsFinite(entry.LinkQuality), $"seed {seed} iteration {i}: quality {entry.LinkQuality}");
            }
        }
    }
}
