namespace CortexEdge.Agent.Policy;

/// <summary>Whether the device runs from an external supply (mains, USB, solar charger, UPS input).</summary>
public enum ExternalPowerState
{
    /// <summary>No source says: no mains/USB supply in sysfs and no mains GPIO line configured.</summary>
    Unknown = 0,

    /// <summary>An external supply is present.</summary>
    Online,

    /// <summary>Every known external supply is absent (for a UPS hat: mains lost).</summary>
    Offline,
}
