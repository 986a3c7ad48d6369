namespace CortexEdge.Core.Clocks;

/// <summary>
/// A hybrid logical clock: issues timestamps that follow the wall clock when it moves forward, stay
/// strictly increasing when it stands still or goes backwards, and move past every remote timestamp
/// observed, so causally later events always carry larger timestamps.
/// </summary>
/// <remarks>
/// Thread-safe and lock-free: the last issued time is one 64-bit word advanced with compare-and-swap.
/// Remote timestamps further ahead of the local wall clock than <see cref="MaxSkew"/> are rejected
/// (and counted) instead of dragging this clock into the future.
/// </remarks>
public sealed class HybridClock
{
    /// <summary>Default largest accepted lead of a remote timestamp over local wall time.</summary>
    public static readonly TimeSpan DefaultMaxSkew = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _timeProvider;
    private readonly ulong _maxSkewMilliseconds;
    private ulong _last;
    private long _skewRejectionCount;

    /// <summary>Creates a clock for <paramref name="replicaId"/>.</summary>
    /// <param name="replicaId">The replica id stamped into every issued timestamp.</param>
    /// <param name="timeProvider">Wall-clock source; <see cref="TimeProvider.System"/> when null (tests pass their own).</param>
    /// <param name="maxSkew">Largest accepted lead of a remote timestamp; <see cref="DefaultMaxSkew"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSkew"/> is negative.</exception>
    public HybridClock(ulong replicaId, TimeProvider? timeProvider = null, TimeSpan? maxSkew = null)
    {
        TimeSpan skew = maxSkew ?? DefaultMaxSkew;
        ArgumentOutOfRangeException.ThrowIfLessThan(skew, TimeSpan.Zero, nameof(maxSkew));
        ReplicaId = replicaId;
        MaxSkew = skew;
        _maxSkewMilliseconds = (ulong)skew.TotalMilliseconds;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The replica id stamped into every issued timestamp.</summary>
    public ulong ReplicaId { get; }

    /// <summary>Largest accepted lead of a remote timestamp over local wall time.</summary>
    public TimeSpan MaxSkew { get; }

    /// <summary>How many remote timestamps were rejected for being too far ahead.</summary>
    public long SkewRejectionCount => Interlocked.Read(ref _skewRejectionCount);

    /// <summary>The latest time issued or observed (the next <see cref="Now"/> is strictly after it).</summary>
    public HlcTimestamp Last => new(Volatile.Read(ref _last), ReplicaId);

    /// <summary>Issues a timestamp strictly greater than every one issued or observed before.</summary>
    public HlcTimestamp Now()
    {
        ulong wall = WallTime();
        ulong previous = Volatile.Read(ref _last);
        while (true)
        {
            // Packed time: +1 bumps the logical counter and carries into the milliseconds when it overflows.
            ulong next = Math.Max(previous + 1, wall);
            ulong seen = Interlocked.CompareExchange(ref _last, next, previous);
            if (seen == previous)
            {
                return new HlcTimestamp(next, ReplicaId);
            }

            previous = seen;
        }
    }

    /// <summary>
    /// Takes a remote timestamp into account so that every later <see cref="Now"/> is after it.
    /// </summary>
    /// <returns>false (and counted in <see cref="SkewRejectionCount"/>) when it is ahead of local wall time by more than <see cref="MaxSkew"/>; the clock is unchanged then.</returns>
    public bool TryObserve(HlcTimestamp remote)
    {
        ulong wallMilliseconds = WallTime() >> HlcTimestamp.LogicalBits;
        if ((ulong)remote.PhysicalMilliseconds > wallMilliseconds + _maxSkewMilliseconds)
        {
            Interlocked.Increment(ref _skewRejectionCount);
            return false;
        }

        AdvanceTo(remote.Time);
        return true;
    }

    /// <summary>Like <see cref="TryObserve"/>, but throws when the timestamp is rejected.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.ClockSkew"/>: the remote timestamp is too far ahead; the sender must resync its clock.</exception>
    public void Observe(HlcTimestamp remote)
    {
        if (!TryObserve(remote))
        {
            long wallMilliseconds = (long)(WallTime() >> HlcTimestamp.LogicalBits);
            throw new EdgeException(
                EdgeErrorCode.ClockSkew,
                $"Remote timestamp {remote} from replica {remote.ReplicaId:x16} is {remote.PhysicalMilliseconds - wallMilliseconds} ms ahead of local time; the limit is {(long)MaxSkew.TotalMilliseconds} ms. The sender must resync its clock.");
        }
    }

    /// <summary>
    /// Moves the clock to at least <paramref name="time"/> without a skew check. Used on recovery with
    /// this replica's own persisted timestamps, so a restart never issues a timestamp twice.
    /// </summary>
    internal void AdvanceTo(ulong time)
    {
        ulong previous = Volatile.Read(ref _last);
        while (previous < time)
        {
            ulong seen = Interlocked.CompareExchange(ref _last, time, previous);
            if (seen == previous)
            {
                return;
            }

            previous = seen;
        }
    }

    private ulong WallTime()
    {
        long milliseconds = Math.Clamp(_timeProvider.GetUtcNow().ToUnixTimeMilliseconds(), 0, HlcTimestamp.PhysicalMillisecondsMax);
        return (ulong)milliseconds << HlcTimestamp.LogicalBits;
    }
}
