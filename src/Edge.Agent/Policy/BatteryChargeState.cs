namespace CortexEdge.Agent.Policy;

/// <summary>What a battery is doing, as the kernel's <c>status</c> attribute says.</summary>
public enum BatteryChargeState
{
    /// <summary>No battery, or its status is missing or not understood.</summary>
    Unknown = 0,

    /// <summary>The battery is being charged (<c>Charging</c>).</summary>
    Charging,

    /// <summary>The battery is powering the device (<c>Discharging</c>).</summary>
    Discharging,

    /// <summary>External power is present but the battery is held, not charged (<c>Not charging</c>).</summary>
    NotCharging,

    /// <summary>The battery is full (<c>Full</c>).</summary>
    Full,
}
