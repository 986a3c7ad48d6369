namespace CortexEdge.Sync.Tests.Replication;

/// <summary>
/// A seeded lossy network for the replication simulation: each message is dropped, duplicated or
/// delayed (which reorders) by the seed's dice; a partition drops everything. Deterministic for a seed.
/// </summary>
internal sealed class SimulatedNetwork(Random random)
{
    private readonly PriorityQueue<(string To, byte[] Frame), (long AtMs, long Sequence)> _inFlight = new();
    private long _sequence;

    public double DropProbability { get; set; }

    public double DuplicateProbability { get; set; }

    public int DelayMsMax { get; set; } = 1;

    public bool Partitioned { get; set; }

    public long SentCount { get; private set; }

    public long DroppedCount { get; private set; }

    public long DuplicatedCount { get; private set; }

    public long DeliveredCount { get; private set; }

    public void Send(string to, byte[] frame, long nowMs)
    {
        SentCount++;
        if (Partitioned || random.NextDouble() < DropProbability)
        {
            DroppedCount++;
            return;
        }

        Enqueue(to, frame, nowMs);
        if (random.NextDouble() < DuplicateProbability)
        {
            DuplicatedCount++;
            Enqueue(to, frame, nowMs);
        }
    }

    private void Enqueue(string to, byte[] frame, long nowMs) =>
        _inFlight.Enqueue((to, frame), (nowMs + 1 + random.Next(DelayMsMax), _sequence++));

    /// <summary>Messages due by <paramref name="nowMs"/>, in delivery order.</summary>
    public IEnumerable<(string To, byte[] Frame)> Deliver(long nowMs)
    {
        while (_inFlight.TryPeek(out (string To, byte[] Frame) message, out (long AtMs, long Sequence) priority) && priority.AtMs <= nowMs)
        {
            _inFlight.Dequeue();
            DeliveredCount++;
            yield return message;
        }
    }

    /// <summary>Forgets everything in flight (a crashed broker session, or a healed run draining).</summary>
    public void Clear() => _inFlight.Clear();
}
