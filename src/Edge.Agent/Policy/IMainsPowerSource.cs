namespace CortexEdge.Agent.Policy;

/// <summary>
/// A "mains lost" signal, typically a UPS hat's GPIO line. The real implementation is
/// <see cref="GpioMainsMonitor"/> (GPIO character device, line events); tests use a fake.
/// </summary>
public interface IMainsPowerSource
{
    /// <summary>The latest known state. Safe to read from any thread.</summary>
    MainsPowerState State { get; }

    /// <summary>A name for decision reasons and logs, e.g. <c>/dev/gpiochip0 line 17</c>.</summary>
    string Description { get; }

    /// <summary>
    /// Raised when <see cref="State"/> changes, on the source's own thread; handlers must be
    /// quick and must not throw. Lets the agent re-decide at once instead of polling on a timer.
    /// </summary>
    event EventHandler<MainsPowerState>? Changed;
}
