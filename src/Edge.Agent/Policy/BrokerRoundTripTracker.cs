namespace CortexEdge.Agent.Policy;

/// <summary>
/// Keeps a smoothed broker round trip from the samples the sync layer records: an exponentially
/// weighted moving average with gain 1/8 (TCP's SRTT, RFC 6298), so one slow sample does not flip
/// the policy. A measurement older than <see cref="StaleAfter"/> no longer counts (the link may have
/// changed since). Thread safe.
/// </summary>
public sealed class BrokerRoundTripTracker : IBrokerRoundTripSource
{
    private const double Gain = 1.0 / 8;

    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private double _smoothedMilliseconds;
    private long _sampleCount;
    private DateTimeOffset _lastSampleAt;

    /// <summary>Creates a tracker.</summary>
    /// <param name="staleAfter">How long a measurement stays valid; default 10 minutes.</param>
    /// <param name="timeProvider">The clock; default <see cref="TimeProvider.System"/>.</param>
    public BrokerRoundTripTracker(TimeSpan? staleAfter = null, TimeProvider? timeProvider = null)
    {
        StaleAfter = staleAfter ?? TimeSpan.FromMinutes(10);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(StaleAfter, TimeSpan.Zero, nameof(staleAfter));
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>How long a measurement stays valid.</summary>
    public TimeSpan StaleAfter { get; }

    /// <summary>Samples recorded since creation or the last <see cref="Reset"/>.</summary>
    public long SampleCount
    {
        get
        {
            lock (_lock)
                return _sampleCount;
        }
    }

    /// <inheritdoc />
    public TimeSpan? RoundTrip
    {
        get
        {
            lock (_lock)
            {
                if (_sampleCount == 0 || _timeProvider.GetUtcNow() - _lastSampleAt > StaleAfter)
                    return null;
                return TimeSpan.FromMilliseconds(_smoothedMilliseconds);
            }
        }
    }

    /// <summary>Records one measured round trip.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="roundTrip"/> is negative.</exception>
    public void Record(TimeSpan roundTrip)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(roundTrip, TimeSpan.Zero);
        lock (_lock)
        {
            DateTimeOffset now = _timeProvider.GetUtcNow();
            // After a stale gap the old average describes another link: start over.
            bool fresh = _sampleCount == 0 || now - _lastSampleAt > StaleAfter;
            _smoothedMilliseconds = fresh ? roundTrip.TotalMilliseconds : _smoothedMilliseconds + Gain * (roundTrip.TotalMilliseconds - _smoothedMilliseconds);
            _sampleCount++;
            _lastSampleAt = now;
        }
    }

    /// <summary>Forgets every sample (the sync layer calls it when the connection drops).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _sampleCount = 0;
            _smoothedMilliseconds = 0;
        }
    }
}
