namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The state of one collection of one replica, as anti-entropy reads it: every live key once, with
/// its item hash, in any order. Implementations read a consistent view (a snapshot or a scan that
/// sees every write that returned before it started).
/// </summary>
public interface IAntiEntropySource
{
    /// <summary>Reads every item; enumerate it to completion or dispose the enumerator.</summary>
    IEnumerable<AntiEntropyItem> ReadItems();
}
