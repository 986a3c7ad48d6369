namespace CortexEdge.Agent.Policy;

/// <summary>
/// Reads the device's network state. The real implementation is <see cref="SysfsNetworkSource"/>
/// (<c>/sys/class/net</c>, <c>/proc/net/wireless</c>, <c>/proc/net/route</c>); tests use a scripted fake.
/// </summary>
public interface INetworkSource
{
    /// <summary>
    /// Reads the current state. Never throws for missing or malformed values: they come back as
    /// unknown with a note in <see cref="NetworkReading.Problems"/>. Safe to call from any thread.
    /// </summary>
    NetworkReading Read();
}
