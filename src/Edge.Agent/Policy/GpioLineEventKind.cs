namespace CortexEdge.Agent.Policy;

/// <summary>The edge a GPIO line event reports (<c>enum gpio_v2_line_event_id</c>).</summary>
public enum GpioLineEventKind : uint
{
    /// <summary><c>GPIO_V2_LINE_EVENT_RISING_EDGE</c>: the line went from inactive to active.</summary>
    RisingEdge = 1,

    /// <summary><c>GPIO_V2_LINE_EVENT_FALLING_EDGE</c>: the line went from active to inactive.</summary>
    FallingEdge = 2,
}
