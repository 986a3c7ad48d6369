namespace CortexEdge.Agent.Policy;

/// <summary>
/// A threshold with hysteresis: becomes active when a value reaches the threshold and inactive
/// only once the value has moved past it by the hysteresis band in the other direction. An unknown
/// value (<c>null</c>) makes it inactive: a restriction is never kept on a reading that is gone.
/// A mutable struct owned by one engine; not thread safe.
/// </summary>
internal struct HysteresisLatch
{
    /// <summary>Whether the condition currently holds.</summary>
    public bool IsActive { get; private set; }

    /// <summary>For "value is high" conditions: active at <c>value &gt;= threshold</c>, inactive at <c>value &lt; threshold - band</c>.</summary>
    public bool UpdateRising(double? value, double threshold, double band)
    {
        IsActive = value is double v && (IsActive ? v >= threshold - band : v >= threshold);
        return IsActive;
    }

    /// <summary>For "value is low" conditions: active at <c>value &lt;= threshold</c>, inactive at <c>value &gt; threshold + band</c>.</summary>
    public bool UpdateFalling(double? value, double threshold, double band)
    {
        IsActive = value is double v && (IsActive ? v <= threshold + band : v <= threshold);
        return IsActive;
    }

    /// <summary>Makes the condition inactive.</summary>
    public void Reset() => IsActive = false;
}
