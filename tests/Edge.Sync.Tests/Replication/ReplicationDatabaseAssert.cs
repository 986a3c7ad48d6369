using CortexEdge.Core;
using CortexEdge.Core.Wal;

namespace CortexEdge.Sync.Tests.Replication;

/// <summary>Checks on real databases: the replica's WAL records are byte-identical to the leader's; equal documents.</summary>
internal static class ReplicationDatabaseAssert
{
    public static void WalIsPrefix(EdgeDatabase leader, EdgeDatabase replica)
    {
        long first = Math.Max(replica.Wal.FirstLsn, leader.Wal.FirstLsn);
        long last = replica.Wal.LastLsn;
        Assert.True(last <= leader.Wal.LastLsn, $"replica holds LSN {last} past the leader's {leader.Wal.LastLsn}");
        if (first > last)
        {
            return;
        }

        using WalReader leaderReader = leader.Wal.OpenReader(first);
        using WalReader replicaReader = replica.Wal.OpenReader(first);
        for (long lsn = first; lsn <= last; lsn++)
        {
            Assert.True(replicaReader.TryRead(out WalRecord mine), $"replica record {lsn} missing");
            Assert.True(leaderReader.TryRead(out WalRecord theirs), $"leader record {lsn} missing");
            Assert.Equal(lsn, mine.Lsn);
            Assert.True(mine.Encoded.SequenceEqual(theirs.Encoded), $"record at LSN {lsn} differs between leader and replica");
        }
    }

    public static void SameDocuments(EdgeDatabase leader, EdgeDatabase replica, string collection)
    {
        var expected = leader.Scan(collection).Select(d => (d.Key, d.ToString(), d.LastChange)).ToList();
        var actual = replica.Scan(collection).Select(d => (d.Key, d.ToString(), d.LastChange)).ToList();
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected, actual);
    }
}
