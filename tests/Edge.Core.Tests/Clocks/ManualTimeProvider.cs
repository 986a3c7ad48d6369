namespace CortexEdge.Core.Tests.Clocks;

/// <summary>A wall clock the test sets by hand (it may go backwards).</summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private long _unixMilliseconds;

    public ManualTimeProvider(long unixMilliseconds) => _unixMilliseconds = unixMilliseconds;

    public long UnixMilliseconds
    {
        get => Interlocked.Read(ref _unixMilliseconds);
        set => Interlocked.Exchange(ref _unixMilliseconds, value);
    }

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(UnixMilliseconds);
}
