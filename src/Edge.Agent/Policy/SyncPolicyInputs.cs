namespace CortexEdge.Agent.Policy;

/// <summary>Everything the policy decides from, read at one moment.</summary>
/// <param name="Battery">Battery and external power.</param>
/// <param name="Network">Links and broker round trip.</param>
/// <param name="Backlog">Unsent operations and quota use.</param>
public sealed record SyncPolicyInputs(BatteryReading Battery, NetworkReading Network, BacklogSnapshot Backlog)
{
    /// <summary>The inputs on one line, e.g. for the decision log.</summary>
    public override string ToString() => $"{Battery}; {Network}; {Backlog}";
}
