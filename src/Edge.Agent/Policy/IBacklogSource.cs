namespace CortexEdge.Agent.Policy;

/// <summary>
/// The unsent backlog and quota use. The sync layer implements it over its upstream cursor and the
/// WAL quota; tests use a scripted fake.
/// </summary>
public interface IBacklogSource
{
    /// <summary>Reads the backlog as of now. Must be cheap (counters, not a scan) and safe from any thread.</summary>
    BacklogSnapshot Read();
}
