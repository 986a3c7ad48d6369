namespace CortexEdge.Agent.Policy;

/// <summary>The state of a UPS hat's "mains lost" signal.</summary>
public enum MainsPowerState
{
    /// <summary>Not known: the line has not been read yet, or its event stream failed.</summary>
    Unknown = 0,

    /// <summary>Mains (the UPS input) is present.</summary>
    Present,

    /// <summary>Mains is lost: the device runs from the UPS battery.</summary>
    Lost,
}
