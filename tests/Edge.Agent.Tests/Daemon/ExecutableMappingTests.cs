using CortexEdge.Agent.Daemon;

namespace CortexEdge.Agent.Tests.Daemon;

public sealed class ExecutableMappingTests
{
    [Fact]
    public void ReleaseStartupPages_AdvisesTheRunningBinaryAndItKeepsRunning()
    {
        // The test host's binary is mapped like the daemon's: every mapping takes the advice, and
        // code paged out faults back in when it runs again.
        int advised = ExecutableMapping.ReleaseStartupPages();
        Assert.True(advised > 0, "no mapping of the running binary took the advice");
        Assert.Equal(advised, ExecutableMapping.ReleaseStartupPages());
    }
}
