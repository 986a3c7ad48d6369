namespace CortexEdge.Agent.Policy;

/// <summary>
/// Reads the device's battery and supply state. Implementations: <see cref="SysfsBatterySource"/>
/// (<c>/sys/class/power_supply</c>), <see cref="UpsBatterySource"/> (adds a UPS hat's mains GPIO
/// line); tests use a scripted fake.
/// </summary>
public interface IBatterySource
{
    /// <summary>
    /// Reads the current state. Never throws for missing or malformed values: they come back as
    /// unknown with a note in <see cref="BatteryReading.Problems"/>. Safe to call from any thread.
    /// </summary>
    BatteryReading Read();
}
