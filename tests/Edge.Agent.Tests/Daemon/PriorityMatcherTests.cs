using CortexEdge.Agent.Configuration;
using CortexEdge.Agent.Daemon;

namespace CortexEdge.Agent.Tests.Daemon;

public sealed class PriorityMatcherTests
{
    [Fact]
    public void PriorityZeroEntries_MatchByExactNameOrTrailingStarPrefix()
    {
        var manifest = new Dictionary<string, CollectionConfig>
        {
            ["alarms"] = new() { Priority = 0 },
            ["alarm.*"] = new() { Priority = 0 },
            ["assets"] = new() { Priority = 1 },
            ["logs*"] = new() { Priority = 2 },
        };
        Func<string, bool> isPriority = EdgeSyncService.PriorityMatcher(manifest)!;
        Assert.True(isPriority("alarms"));
        Assert.True(isPriority("alarm.door"));
        Assert.False(isPriority("alarmsx"));
        Assert.False(isPriority("alarm"));
        Assert.False(isPriority("assets"));
        Assert.False(isPriority("logs.boot"));
    }

    [Fact]
    public void NoPriorityEntries_NoMatcher()
    {
        Assert.Null(EdgeSyncService.PriorityMatcher(new Dictionary<string, CollectionConfig> { ["assets"] = new() }));
    }
}
