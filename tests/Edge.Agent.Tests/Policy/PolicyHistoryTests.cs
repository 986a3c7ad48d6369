using CortexEdge.Agent.Policy;

namespace CortexEdge.Agent.Tests.Policy;

public sealed class PolicyHistoryTests
{
    private const string Day = PolicyHistory.Header + """

        # mains, ethernet, small backlog
        0,100,full,ethernet,0,20,10,1000,1,5
        # power lost: draining
        60,60,discharging,ethernet,0,20,10,1000,1,5
        120,25,discharging,ethernet,0,20,10,1000,1,5
        180,8,discharging,ethernet,0,20,10,1000,1,5
        # queue nearly full beats a critical battery
        190,8,discharging,ethernet,0,20,10,1000,1,95
        200,8,discharging,ethernet,0,20,10,1000,1,5
        # sun is up: charging again
        240,30,charging,ethernet,0,20,10,1000,1,5
        300,60,charging,cellular,1,80,10,1000,1,5
        # link down
        360,70,charging,none,0,,10,1000,30,5
        """;

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Replay_YieldsTheExactDecisionSequence()
    {
        var history = PolicyHistory.Parse(new StringReader(Day));
        var changes = PolicyHistory.Replay(history, new SyncPolicyOptions(), Start);
        Assert.Equal(
            [(0, SyncAction.SyncNow), (120, SyncAction.PriorityOnly), (180, SyncAction.Defer), (190, SyncAction.SyncNow), (200, SyncAction.Defer), (240, SyncAction.SyncNow), (300, SyncAction.PriorityOnly), (360, SyncAction.Defer)],
            changes.Select(c => (c.Minute, c.Decision.Action)));
        Assert.All(changes, c => Assert.False(string.IsNullOrWhiteSpace(c.Decision.Reason)));
    }

    [Fact]
    public void Replay_IsDeterministic()
    {
        var history = PolicyHistory.Parse(new StringReader(Day));
        var first = PolicyHistory.Replay(history, new SyncPolicyOptions(), Start).Select(c => $"{c.Minute} {c.Decision.Action} {c.Decision.Rule} {c.Decision.Reason}");
        var second = PolicyHistory.Replay(history, new SyncPolicyOptions(), Start).Select(c => $"{c.Minute} {c.Decision.Action} {c.Decision.Rule} {c.Decision.Reason}");
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData("0,100,full,ethernet,0,20,10,1000,1", "10")]
    [InlineData("0,100,sunny,ethernet,0,20,10,1000,1,5", "charging")]
    [InlineData("0,100,full,lora,0,20,10,1000,1,5", "link")]
    [InlineData("0,100,full,ethernet,2,20,10,1000,1,5", "metered")]
    [InlineData("0,-5,full,ethernet,0,20,10,1000,1,5", "battery_percent")]
    public void Parse_MalformedLine_NamesLineAndColumn(string row, string expected)
    {
        var error = Assert.Throws<FormatException>(() => PolicyHistory.Parse(new StringReader(PolicyHistory.Header + "\n" + row)));
        Assert.Contains("line 2", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Parse_MissingHeaderOrOutOfOrderMinutes_IsRefused()
    {
        Assert.Throws<FormatException>(() => PolicyHistory.Parse(new StringReader("0,100,full,ethernet,0,20,10,1000,1,5")));
        Assert.Throws<FormatException>(() => PolicyHistory.Parse(new StringReader(PolicyHistory.Header + "\n5,100,full,ethernet,0,20,10,1000,1,5\n5,100,full,ethernet,0,20,10,1000,1,5")));
    }
}
