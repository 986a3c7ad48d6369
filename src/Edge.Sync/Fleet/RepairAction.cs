namespace CortexEdge.Sync.Fleet;

/// <summary>What anti-entropy repair did with one differing key on the verifying replica.</summary>
public enum RepairAction
{
    /// <summary>The peer's version won (newer, or equal: the leader holds the fleet's order): it was written locally (a put, or a delete when the peer deleted it later) and syncs up like any write.</summary>
    TookPeerVersion = 1,

    /// <summary>The local version won (newer, or the peer has none): it was written again (a put, or our later delete) so the normal upload carries it to the peer.</summary>
    ResentLocalVersion = 2,

    /// <summary>Both sides hold it alike now (it changed while verifying): nothing to do.</summary>
    NothingToDo = 3,
}
