using CortexEdge.Core.Clocks;
using CortexEdge.Core.Tests.Wal;

namespace CortexEdge.Core.Tests.Clocks;

public sealed class HybridClockTests
{
    private const long Start = 1_800_000_000_000;

    [Fact]
    public void Now_FollowsWallClockWhenItMovesForward()
    {
        var time = new ManualTimeProvider(Start);
        var clock = new HybridClock(7, time);
        HlcTimestamp first = clock.Now();
        time.UnixMilliseconds = Start + 5;
        HlcTimestamp second = clock.Now();
        Assert.Equal(Start, first.PhysicalMilliseconds);
        Assert.Equal(0, first.Logical);
        Assert.Equal(Start + 5, second.PhysicalMilliseconds);
        Assert.Equal(0, second.Logical);
        Assert.Equal(7UL, second.ReplicaId);
    }

    [Fact]
    public void Now_StaysStrictlyIncreasingWhenWallClockGoesBackwards()
    {
        var time = new ManualTimeProvider(Start);
        var clock = new HybridClock(1, time);
        HlcTimestamp before = clock.Now();
        time.UnixMilliseconds = Start - 60_000; // NTP step back by a minute
        HlcTimestamp previous = before;
        for (int i = 0; i < 1000; i++)
        {
            HlcTimestamp next = clock.Now();
            Assert.True(next > previous, $"timestamp {i} ({next}) must be after {previous}");
            Assert.Equal(Start, next.PhysicalMilliseconds);
            previous = next;
        }

        time.UnixMilliseconds = Start + 1;
        HlcTimestamp caughtUp = clock.Now();
        Assert.Equal(Start + 1, caughtUp.PhysicalMilliseconds);
        Assert.Equal(0, caughtUp.Logical);
    }

    [Fact]
    public void Now_CarriesLogicalOverflowIntoPhysicalMilliseconds()
    {
        var time = new ManualTimeProvider(Start);
        var clock = new HybridClock(1, time);
        HlcTimestamp last = default;
        for (int i = 0; i <= HlcTimestamp.LogicalMax + 1; i++)
        {
            last = clock.Now();
        }

        Assert.Equal(Start + 1, last.PhysicalMilliseconds);
        Assert.Equal(0, last.Logical);
    }

    [Fact]
    public void Observe_MovesPastRemoteTimestampWithinSkew()
    {
        var time = new ManualTimeProvider(Start);
        var clock = new HybridClock(1, time);
        HlcTimestamp remote = HlcTimestamp.Create(Start + 30_000, 5, 2);
        clock.Observe(remote);
        HlcTimestamp next = clock.Now();
        Assert.True(next > remote, $"{next} must be after the observed {remote}");
        Assert.Equal(0, clock.SkewRejectionCount);
    }

    [Fact]
    public void Observe_RejectsTimestampAheadByMoreThanMaxSkew_AndCountsIt()
    {
        var time = new ManualTimeProvider(Start);
        var clock = new HybridClock(1, time);
        HlcTimestamp before = clock.Now();
        HlcTimestamp remote = HlcTimestamp.Create(Start + 60_001, 0, 2);
        var error = Assert.Throws<EdgeException>(() => clock.Observe(remote));
        Assert.Equal(EdgeErrorCode.ClockSkew, error.Code);
        Assert.Contains("60001 ms ahead", error.Message);
        Assert.False(clock.TryObserve(remote));
        Assert.Equal(2, clock.SkewRejectionCount);
        Assert.Equal(before.Time + 1, clock.Now().Time); // the clock did not jump
    }

    [Fact]
    public void TryObserve_AcceptsExactlyMaxSkew()
    {
        var time = new ManualTimeProvider(Start);
        var clock = new HybridClock(1, time, TimeSpan.FromSeconds(10));
        Assert.True(clock.TryObserve(HlcTimestamp.Create(Start + 10_000, HlcTimestamp.LogicalMax, 2)));
        Assert.False(clock.TryObserve(HlcTimestamp.Create(Start + 10_001, 0, 2)));
    }

    [Fact]
    public void Now_FromManyThreads_IssuesUniqueIncreasingTimestampsPerThread()
    {
        var clock = new HybridClock(3, new ManualTimeProvider(Start));
        const int ThreadCount = 4;
        const int PerThread = 20_000;
        var results = new ulong[ThreadCount][];
        Parallel.For(0, ThreadCount, t =>
        {
            var local = new ulong[PerThread];
            for (int i = 0; i < PerThread; i++)
            {
                local[i] = clock.Now().Time;
                if (i > 0)
                {
                    Assert.True(local[i] > local[i - 1]);
                }
            }

            results[t] = local;
        });
        Assert.Equal(ThreadCount * PerThread, results.SelectMany(r => r).Distinct().Count());
    }

    [Fact]
    public void Now_UnderRandomWallClockJumps_IsStrictlyMonotonic()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        var time = new ManualTimeProvider(Start);
        var clock = new HybridClock(9, time);
        HlcTimestamp previous = clock.Now();
        for (int i = 0; i < 10_000; i++)
        {
            time.UnixMilliseconds = Start + random.Next(-5_000, 5_000);
            if (random.Next(10) == 0)
            {
                clock.TryObserve(HlcTimestamp.Create(time.UnixMilliseconds + random.Next(-1_000, 70_000), random.Next(100), 4));
            }

            HlcTimestamp next = clock.Now();
            Assert.True(next > previous, $"seed {seed}: step {i}: {next} is not after {previous}");
            previous = next;
        }
    }
}
