namespace CortexEdge.Agent.Policy;

/// <summary>
/// Which GPIO line carries a UPS hat's "mains lost" signal and how to read it.
/// </summary>
/// <param name="Chip">The chip: a number (<c>0</c> means <c>/dev/gpiochip0</c>) or a device path.</param>
/// <param name="LineOffset">The line's offset on the chip (the hat's documentation names it; often the BCM pin number on a Raspberry Pi).</param>
/// <param name="MainsLostWhenLow">True when the hat pulls the line low on mains loss (the kernel is asked for an active-low line).</param>
public sealed record GpioMainsOptions(string Chip, uint LineOffset, bool MainsLostWhenLow = false)
{
    /// <summary>The consumer label shown by <c>gpioinfo</c> for the requested line.</summary>
    public string Consumer { get; init; } = "cortex-edge-mains";

    /// <summary>Events the kernel should buffer between reads (0 lets the kernel choose, 16 per line).</summary>
    public uint EventBufferSize { get; init; }

    /// <summary>The character device path: <see cref="Chip"/> itself when it contains a slash, else <c>/dev/gpiochip{Chip}</c>.</summary>
    public string DevicePath => Chip.Contains('/', StringComparison.Ordinal) ? Chip : $"/dev/gpiochip{Chip}";

    /// <summary>Checks the values; throws <see cref="SyncPolicyException"/> (<see cref="SyncPolicyErrorCode.OptionsInvalid"/>) naming the bad one.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Chip))
            throw new SyncPolicyException(SyncPolicyErrorCode.OptionsInvalid, "GPIO mains: the chip is empty; give a number (0 for /dev/gpiochip0) or a device path.");
        if (!Chip.Contains('/', StringComparison.Ordinal) && !uint.TryParse(Chip, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            throw new SyncPolicyException(SyncPolicyErrorCode.OptionsInvalid, $"GPIO mains: chip '{Chip}' is neither a number nor a device path.");
        if (System.Text.Encoding.UTF8.GetByteCount(Consumer) >= GpioUapi.NameBytesMax)
            throw new SyncPolicyException(SyncPolicyErrorCode.OptionsInvalid, $"GPIO mains: consumer label '{Consumer}' is longer than {GpioUapi.NameBytesMax - 1} bytes.");
    }
}
