namespace CortexEdge.Sync.Fleet;

/// <summary>Which way a collection's changes travel. Values are part of the manifest encoding.</summary>
public enum ReplicationDirection : byte
{
    /// <summary>Never leaves the device it was written on.</summary>
    LocalOnly = 0,

    /// <summary>Nodes -> leader only (telemetry, events).</summary>
    Up = 1,

    /// <summary>Leader -> nodes only (configuration, reference data); nodes may not write it.</summary>
    Down = 2,

    /// <summary>Both ways, merged as CRDTs.</summary>
    Both = 3,
}
