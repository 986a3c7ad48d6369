using CortexEdge.Agent.Policy;

namespace CortexEdge.Agent.Tests.Policy.Fakes;

/// <summary>A UPS mains line the test flips.</summary>
internal sealed class FakeMainsPowerSource : IMainsPowerSource
{
    private MainsPowerState _state = MainsPowerState.Present;

    public MainsPowerState State
    {
        get => _state;
        set
        {
            if (_state == value)
                return;
            _state = value;
            Changed?.Invoke(this, value);
        }
    }

    public string Description => "fake-gpiochip0 line 4";

    public event EventHandler<MainsPowerState>? Changed;
}
