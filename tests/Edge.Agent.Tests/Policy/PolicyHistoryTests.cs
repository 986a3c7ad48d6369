using CortexEdge.Agent.Policy;

namespace CortexEdge.Agent.Tests.Policy;

public sealed class PolicyHistoryTests
{
    private const string Day = PolicyHistory.Header + """

        # mains, ethernet, normal data ten minutes old
        0,100,full,ethernet,0,20,0,0,,100,10000,600,0,0,,5
        # power lost, on the metered modem: an alarm 30 s old, readings 5 min old
        3600,60,discharging,cellular,1,80,2,200,30,50,5000,300,0,0,,5
        # low battery: priority only
        7200,25,discharging,cellular,1,80,1,100,10,400,40000,600,0,0,,5
        # still low: the readings reach their bound and force one burst
        8400,25,discharging,cellular,1,80,0,0,,400,40000,3590,0,0,,5
        # critical
        9000,8,discharging,cellular,1,80,0,0,,400,40000,8800,0,0,,5
        # queue nearly full beats a critical battery
        9600,8,discharging,cellular,1,80,0,0,,400,40000,9400,0,0,,95
        # sun is up: charging on ethernet
        10800,40,charging,ethernet,0,20,0,0,,10,1000,60,0,0,,5
        # link down
        11400,,unknown,none,0,,0,0,,20,2000,660,0,0,,5
        """;

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Replay_YieldsTheExactDecisionAndBurstSequence()
    {
        var history = PolicyHistory.Parse(new StringReader(Day));
        var changes = PolicyHistory.Replay(history, new SyncPolicyOptions(), Start);
        (int, SyncAction, SyncRule, bool)[] expected =
        [
            (0, SyncAction.SyncNow, SyncRule.Unrestricted, false),
            (2990, SyncAction.SyncNow, SyncRule.Unrestricted, true), // normal reaches 1 h - 10 s: one burst
            (3600, SyncAction.PriorityOnly, SyncRule.MeteredLink, false),
            (3620, SyncAction.PriorityOnly, SyncRule.MeteredLink, true), // the alarm reaches 1 min - 10 s
            (6890, SyncAction.SyncNow, SyncRule.FreshnessBound, true), // normal data forces a full burst over the metered link
            (6890, SyncAction.PriorityOnly, SyncRule.MeteredLink, false),
            (7200, SyncAction.PriorityOnly, SyncRule.LowBattery, false),
            (7240, SyncAction.PriorityOnly, SyncRule.LowBattery, true), // priority still keeps its bound
            (8400, SyncAction.SyncNow, SyncRule.FreshnessBound, true), // so does normal data: the bound beats a low battery
            (8400, SyncAction.PriorityOnly, SyncRule.LowBattery, false),
            (9000, SyncAction.Defer, SyncRule.CriticalBattery, false),
            (9600, SyncAction.SyncNow, SyncRule.QuotaNearlyFull, true),
            (10800, SyncAction.SyncNow, SyncRule.Unrestricted, false),
            (11400, SyncAction.Defer, SyncRule.NoLink, false),
        ];
        Assert.Equal(expected, changes.Select(c => ((int)c.At.TotalSeconds, c.Decision.Action, c.Decision.Rule, c.Decision.BurstDue)));
        Assert.All(changes, c => Assert.Equal(Start + c.At, c.Decision.DecidedAt));
        Assert.All(changes, c => Assert.False(string.IsNullOrWhiteSpace(c.Decision.Reason)));
    }

    [Fact]
    public void Replay_IsDeterministic()
    {
        var history = PolicyHistory.Parse(new StringReader(Day));
        var first = PolicyHistory.Replay(history, new SyncPolicyOptions(), Start).Select(c => $"{c.At} {c.Decision}");
        var second = PolicyHistory.Replay(history, new SyncPolicyOptions(), Start).Select(c => $"{c.At} {c.Decision}");
        Assert.Equal(first, second);
    }

    [Fact]
    public void Replay_ConfiguredBoundsChangeTheBursts()
    {
        var history = PolicyHistory.Parse(new StringReader(Day));
        var options = new SyncPolicyOptions { FreshnessBoundNormal = TimeSpan.FromMinutes(20), BurstLeadTime = TimeSpan.Zero };
        var bursts = PolicyHistory.Replay(history, options, Start).Where(c => c.Decision.BurstDue).Select(c => (int)c.At.TotalSeconds);
        // Normal data 600 s old at 0 s reaches 20 min at 600 s; on the modem, 300 s old at 3600 s, at 4500 s; 600 s old at 7200 s, at 7800 s.
        Assert.Equal([600, 3630, 4500, 7250, 7800, 8400, 9600], bursts);
    }

    [Theory]
    [InlineData("0,100,full,ethernet,0,20,0,0,,1,10,5,0,0,", "16")]
    [InlineData("0,100,sunny,ethernet,0,20,0,0,,1,10,5,0,0,,5", "charging")]
    [InlineData("0,100,full,lora,0,20,0,0,,1,10,5,0,0,,5", "link")]
    [InlineData("0,100,full,ethernet,2,20,0,0,,1,10,5,0,0,,5", "metered")]
    [InlineData("0,-5,full,ethernet,0,20,0,0,,1,10,5,0,0,,5", "battery_percent")]
    [InlineData("0,100,full,ethernet,0,20,0,0,,1,10,,0,0,,5", "normal_oldest_s")]
    [InlineData("0,100,full,ethernet,0,20,0,0,7,1,10,5,0,0,,5", "high_oldest_s")]
    [InlineData("0,100,full,ethernet,0,20,0,0,,1,10,5,x,0,,5", "low_ops")]
    public void Parse_MalformedLine_NamesLineAndColumn(string row, string expected)
    {
        var error = Assert.Throws<FormatException>(() => PolicyHistory.Parse(new StringReader(PolicyHistory.Header + "\n" + row)));
        Assert.Contains("line 2", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Parse_MissingHeaderOrOutOfOrderTimes_IsRefused()
    {
        const string Row = "5,100,full,ethernet,0,20,0,0,,1,10,5,0,0,,5";
        Assert.Throws<FormatException>(() => PolicyHistory.Parse(new StringReader(Row)));
        Assert.Throws<FormatException>(() => PolicyHistory.Parse(new StringReader(PolicyHistory.Header + "\n" + Row + "\n" + Row)));
    }
}
