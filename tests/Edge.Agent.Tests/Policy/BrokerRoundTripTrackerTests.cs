using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;

namespace CortexEdge.Agent.Tests.Policy;

public sealed class BrokerRoundTripTrackerTests
{
    [Fact]
    public void Record_SmoothsWithGainOneEighth()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var tracker = new BrokerRoundTripTracker(timeProvider: clock);
        Assert.Null(tracker.RoundTrip);
        tracker.Record(TimeSpan.FromMilliseconds(100));
        Assert.Equal(100, tracker.RoundTrip!.Value.TotalMilliseconds, 6);
        tracker.Record(TimeSpan.FromMilliseconds(900));
        Assert.Equal(200, tracker.RoundTrip!.Value.TotalMilliseconds, 6);
        Assert.Equal(2, tracker.SampleCount);
    }

    [Fact]
    public void RoundTrip_StaleAfterConfiguredTime_AndRestartsAfterGap()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var tracker = new BrokerRoundTripTracker(TimeSpan.FromMinutes(1), clock);
        tracker.Record(TimeSpan.FromMilliseconds(3000));
        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.NotNull(tracker.RoundTrip);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(tracker.RoundTrip);
        // The first sample after the gap replaces the stale average instead of blending with it.
        tracker.Record(TimeSpan.FromMilliseconds(50));
        Assert.Equal(50, tracker.RoundTrip!.Value.TotalMilliseconds, 6);
    }

    [Fact]
    public void Reset_ForgetsSamples()
    {
        var tracker = new BrokerRoundTripTracker();
        tracker.Record(TimeSpan.FromMilliseconds(10));
        tracker.Reset();
        Assert.Null(tracker.RoundTrip);
        Assert.Equal(0, tracker.SampleCount);
    }

    [Fact]
    public void Record_Negative_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BrokerRoundTripTracker().Record(TimeSpan.FromTicks(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BrokerRoundTripTracker(TimeSpan.Zero));
    }
}
