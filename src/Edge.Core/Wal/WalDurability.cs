namespace CortexEdge.Core.Wal;

/// <summary>A durability mode and its interval (zero for <see cref="WalDurabilityMode.None"/> and <see cref="WalDurabilityMode.Always"/>).</summary>
/// <param name="Mode">When a record is acknowledged.</param>
/// <param name="Interval">Periodic: time between flushes. Group: the longest an unflushed record waits for a flush.</param>
public readonly record struct WalDurability(WalDurabilityMode Mode, TimeSpan Interval)
{
    /// <summary>Acknowledge after the copy into the map; flush only on dispose.</summary>
    public static WalDurability None => new(WalDurabilityMode.None, TimeSpan.Zero);

    /// <summary>Acknowledge at once; flush every <paramref name="interval"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The interval is not positive.</exception>
    public static WalDurability Periodic(TimeSpan interval) => new(WalDurabilityMode.Periodic, Positive(interval));

    /// <summary>Acknowledge after the group flush covering the record; no record waits longer than <paramref name="interval"/> for its flush to start.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The interval is not positive.</exception>
    public static WalDurability Group(TimeSpan interval) => new(WalDurabilityMode.Group, Positive(interval));

    /// <summary>Flush for every acknowledged record.</summary>
    public static WalDurability Always => new(WalDurabilityMode.Always, TimeSpan.Zero);

    /// <inheritdoc/>
    public override string ToString() => Mode is WalDurabilityMode.Periodic or WalDurabilityMode.Group
        ? $"{Mode}({Interval.TotalMilliseconds:0.###} ms)"
        : Mode.ToString();

    private static TimeSpan Positive(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        return interval;
    }
}
