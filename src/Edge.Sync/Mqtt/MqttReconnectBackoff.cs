namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Reconnect delays: exponential (minimum doubled per failed attempt, capped at the maximum) with
/// "equal jitter" (half the delay fixed, half random) so a fleet that lost the same broker does not
/// reconnect in lock-step.
/// </summary>
internal static class MqttReconnectBackoff
{
    public static TimeSpan GetDelay(int attempt, TimeSpan minimum, TimeSpan maximum, Random random)
    {
        double capped = minimum.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        capped = Math.Min(capped, maximum.TotalMilliseconds);
        double jittered = (capped / 2) + (random.NextDouble() * capped / 2);
        return TimeSpan.FromMilliseconds(jittered);
    }
}
