using System.Buffers;

namespace CortexEdge.Sync.Replication;

/// <summary>
/// The leader's log as the replication protocol sees it. The real one is
/// <see cref="EdgeDatabaseReplicationSource"/>; simulations use an in-memory log. Called from one
/// thread at a time (the protocol's owner serializes calls).
/// </summary>
public interface IReplicationSource
{
    /// <summary>The leader's log epoch.</summary>
    ulong Epoch { get; }

    /// <summary>Oldest LSN still readable.</summary>
    long FirstLsn { get; }

    /// <summary>Newest LSN that may be shipped: durable at the leader, so a replica never holds a record the leader could lose.</summary>
    long ShippableLsn { get; }

    /// <summary>CRC of the record at <paramref name="lsn"/> (0 for LSN 0); false when it is trimmed or not yet written.</summary>
    bool TryGetCrc(long lsn, out uint crc);

    /// <summary>
    /// Copies encoded records from <paramref name="fromLsn"/> (at most <paramref name="recordCountMax"/>,
    /// at most <paramref name="bytesMax"/> bytes unless the first alone is larger) into
    /// <paramref name="destination"/>; returns how many. 0 when <paramref name="fromLsn"/> is past
    /// <see cref="ShippableLsn"/> or trimmed.
    /// </summary>
    int ReadRecords(long fromLsn, int recordCountMax, int bytesMax, IBufferWriter<byte> destination);

    /// <summary>
    /// A snapshot covering at least LSN <paramref name="minimumLsn"/>, when one is ready; otherwise
    /// false (making one may be started in the background; ask again later).
    /// </summary>
    bool TryGetSnapshot(long minimumLsn, out IReplicationSnapshot? snapshot);

    /// <summary>Keep records from <paramref name="keepFromLsn"/> on for <paramref name="replicaName"/>.</summary>
    void SetRetentionHold(string replicaName, long keepFromLsn);

    /// <summary>Stop keeping records for <paramref name="replicaName"/>.</summary>
    void ReleaseRetentionHold(string replicaName);
}

/// <summary>A snapshot the leader can send in chunks.</summary>
public interface IReplicationSnapshot
{
    /// <summary>Identifies this snapshot (a replica restarts a transfer when it changes).</summary>
    ulong Id { get; }

    /// <summary>The LSN it covers.</summary>
    long Lsn { get; }

    /// <summary>CRC of the record at <see cref="Lsn"/> (the chain anchor for the stream after it).</summary>
    uint AnchorCrc { get; }

    /// <summary>Length in bytes.</summary>
    long LengthBytes { get; }

    /// <summary>CRC32C of the whole snapshot.</summary>
    uint Checksum { get; }

    /// <summary>Reads bytes at <paramref name="offset"/>; returns how many.</summary>
    int Read(long offset, Span<byte> destination);
}
