namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Counts the value bits a run of scaled decimals takes as deltas and as deltas of deltas, so an
/// encoder can pick the smaller before writing. Deltas suit values that wander (a temperature's
/// random walk); deltas of deltas suit values that move at a steady rate (meters and counters,
/// ramps), where the delta repeats and its change takes one bit.
/// </summary>
internal struct DecimalDeltaCost
{
    private long _previousScaled;
    private long _previousDelta;
    private long _deltaBits;
    private long _deltaOfDeltaBits;
    private bool _started;

    /// <summary>Adds the next value, already scaled (the first one only sets the start).</summary>
    public void Add(long scaled)
    {
        if (!_started)
        {
            _started = true;
            _previousScaled = scaled;
            return;
        }

        long delta = scaled - _previousScaled;
        _deltaBits += GorillaEncoder.ScaledDeltaBits(delta);
        _deltaOfDeltaBits += GorillaEncoder.ScaledDeltaBits(delta - _previousDelta);
        _previousScaled = scaled;
        _previousDelta = delta;
    }

    /// <summary>True when deltas of deltas take fewer bits than deltas.</summary>
    public readonly bool PreferDeltaOfDelta => _deltaOfDeltaBits < _deltaBits;
}
