using System.Buffers.Binary;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Replication;

namespace CortexEdge.Sync.Tests.Replication;

public sealed class ReplicaProtocolTests
{
    [Fact]
    public void Stream_PerfectNetwork_ReplicaIsByteIdenticalAndStreaming()
    {
        var rig = new ReplicationTestRig();
        rig.Write(37);
        rig.Run(10);
        Assert.Equal(37, rig.Store.LastLsn);
        ReplicationSimulationTests.AssertPrefix(rig.Log, rig.Store, rig.Replica, "perfect network", "r1");
        ReplicaStatus status = rig.Replica.GetStatus(rig.Now);
        Assert.Equal(ReplicaState.Streaming, status.State);
        Assert.Equal(0, status.LagRecords);
        Assert.Equal(37, rig.Leader.GetReplicas().Single().AcknowledgedLsn);
    }

    [Fact]
    public void Stream_OnlyDurableRecordsAreShipped()
    {
        var rig = new ReplicationTestRig();
        rig.Write(10);
        rig.Log.DurableLsn = 6;
        rig.Run(10);
        Assert.Equal(6, rig.Store.LastLsn);
        Assert.Equal(6, rig.Replica.GetStatus(rig.Now).LeaderLsn);
        rig.Log.DurableLsn = 10;
        rig.Run(100);
        Assert.Equal(10, rig.Store.LastLsn);
    }

    [Fact]
    public void CorruptRecordInsideValidFrame_HaltsWithDivergence_AppliesNothingAfter()
    {
        var rig = new ReplicationTestRig();
        rig.Write(5);
        rig.Run(5);
        Assert.Equal(5, rig.Store.LastLsn);
        rig.Write(8); // LSNs 6..13; the batch 6..9 gets its second record's payload flipped
        rig.Run(5, frame =>
        {
            if (ReplicationFrameCodec.Decode(frame) is WalBatchFrame { RecordCount: > 1, PrevLsn: 5 } batch)
            {
                byte[] records = batch.Records.ToArray();
                int second = WriteAheadLog.EncodedRecordLength(9);
                records[second + WalRecordInfo.PayloadOffset + 3] ^= 0x40;
                return ReplicationFrameCodec.Encode(batch with { Records = records });
            }

            return frame;
        });
        var divergence = Assert.IsType<ReplicationDivergenceException>(rig.Replica.Divergence);
        Assert.Equal(6, rig.Store.LastLsn); // the record before the bad one, nothing after
        Assert.Equal(7, divergence.LeaderLsn);
        Assert.Equal(6, divergence.ReplicaLsn);
        Assert.Contains("cannot be verified", divergence.Message, StringComparison.Ordinal);
        Assert.Equal(ReplicaState.Halted, rig.Replica.GetStatus(rig.Now).State);

        // Halted is final: later good frames change nothing, and the leader stops streaming to it.
        rig.Run(20);
        Assert.Equal(6, rig.Store.LastLsn);
        Assert.Equal("halted", rig.Leader.GetReplicas().Single().Mode);
    }

    [Fact]
    public void CorruptFrameBytes_HaltsWithDivergence_AppliesNothing()
    {
        var rig = new ReplicationTestRig();
        rig.Write(3);
        rig.Run(3);
        rig.Write(4);
        bool flipped = false;
        rig.Run(3, frame =>
        {
            if (!flipped && ReplicationFrameCodec.Decode(frame) is WalBatchFrame { RecordCount: > 0 })
            {
                flipped = true;
                byte[] copy = frame.ToArray();
                copy[^9] ^= 1;
                return copy;
            }

            return frame;
        });
        Assert.True(flipped);
        Assert.IsType<ReplicationDivergenceException>(rig.Replica.Divergence);
        Assert.Equal(3, rig.Store.LastLsn);
    }

    [Fact]
    public void ForgedHistoryAtReplicaEnd_HaltsNamingBothPositions()
    {
        var rig = new ReplicationTestRig();
        rig.Write(5);
        rig.Run(5);
        uint leaderCrc = rig.Log.Crcs[4];
        (byte[] forged, uint forgedCrc) = Forge(5);
        rig.Store.ForgeRecord(5, forged, forgedCrc);
        rig.Write(3);
        rig.Run(5);
        var divergence = Assert.IsType<ReplicationDivergenceException>(rig.Replica.Divergence);
        Assert.Equal(5, divergence.ReplicaLsn);
        Assert.Equal(forgedCrc, divergence.ReplicaCrc);
        Assert.Equal(5, divergence.LeaderLsn);
        Assert.Equal(leaderCrc, divergence.LeaderCrc);
        Assert.Equal(5, rig.Store.LastLsn);
    }

    [Fact]
    public void ForgedHistoryInsideReplicaLog_RedeliveredBatchHalts_NothingAfterApplied()
    {
        var rig = new ReplicationTestRig();
        rig.Write(8);
        rig.Run(5);
        (byte[] forged, uint forgedCrc) = Forge(3);
        rig.Store.ForgeRecord(3, forged, forgedCrc);
        rig.Write(2);

        // The leader re-sends from LSN 1 (as after a restart of the leader that lost its replica table and a replica that rewound).
        var replay = new WalBatchFrame(1, rig.Log.LastLsn, rig.Now, 0, 0, 10, rig.Log.AllRecords.SelectMany(r => r).ToArray());
        rig.Replica.Receive(ReplicationFrameCodec.Encode(replay), rig.Now, []);
        var divergence = Assert.IsType<ReplicationDivergenceException>(rig.Replica.Divergence);
        Assert.Equal(3, divergence.ReplicaLsn);
        Assert.Equal(3, divergence.LeaderLsn);
        Assert.Equal(8, rig.Store.LastLsn); // 9 and 10 were not applied
    }

    [Fact]
    public void RedeliveredBatch_IgnoredByLsn()
    {
        var rig = new ReplicationTestRig();
        rig.Write(6);
        rig.Run(5);
        foreach (byte[] frame in rig.ToReplica.ToList())
        {
            rig.Replica.Receive(frame, rig.Now, []);
        }

        Assert.Null(rig.Replica.Divergence);
        Assert.Equal(6, rig.Store.LastLsn);
        Assert.Equal(6, rig.Store.AppliedCount);
        Assert.True(rig.Replica.GetStatus(rig.Now).DuplicateRecordCount >= 6);
    }

    [Fact]
    public void BatchPastReplicaEnd_NotApplied_LeaderResends()
    {
        var rig = new ReplicationTestRig();
        rig.Write(12);
        bool dropped = false;
        rig.Run(1, frame =>
        {
            if (!dropped && ReplicationFrameCodec.Decode(frame) is WalBatchFrame { PrevLsn: 4 })
            {
                dropped = true;
                return null; // LSNs 5..8 lost: 9..12 arrive first
            }

            return frame;
        });
        Assert.Equal(4, rig.Store.LastLsn);
        Assert.True(rig.Replica.GetStatus(rig.Now).GapFrameCount > 0);
        rig.Run(150); // past the retransmit interval
        Assert.Equal(12, rig.Store.LastLsn);
        ReplicationSimulationTests.AssertPrefix(rig.Log, rig.Store, rig.Replica, "gap", "r1");
    }

    [Fact]
    public void PrunedLog_ReplicaCatchesUpBySnapshotThenStream()
    {
        var rig = new ReplicationTestRig();
        rig.Write(40);
        rig.Log.Prune(30); // no holds yet: everything through 30 is gone
        Assert.Equal(31, rig.Log.FirstLsn);
        rig.Run(30);
        Assert.Equal(1, rig.Store.InstalledSnapshotCount);
        Assert.Equal(40, rig.Store.LastLsn);
        ReplicationSimulationTests.AssertPrefix(rig.Log, rig.Store, rig.Replica, "pruned", "r1");
        rig.Write(5);
        rig.Run(5);
        Assert.Equal(45, rig.Store.LastLsn);
    }

    [Fact]
    public void SnapshotInterrupted_ReplicaRestarts_ResumesFromStagedOffset()
    {
        var rig = new ReplicationTestRig(new ReplicationOptions { BatchRecordCountMax = 4, WindowRecordCountMax = 64, SnapshotChunkBytes = 16, SnapshotWindowChunkCountMax = 1, RetentionRecordCountMax = 1000 });
        rig.Write(60);
        rig.Log.Prune(60);
        int chunks = 0;
        rig.Run(1, frame => ReplicationFrameCodec.Decode(frame) is SnapshotChunkFrame && ++chunks > 3 ? null : frame);
        long staged = rig.Store.StagedSnapshotBytes;
        Assert.Equal(48, staged);
        Assert.Equal(ReplicaState.Snapshot, rig.Replica.GetStatus(rig.Now).State);

        // Replica process restarts: the staged bytes survive; a new leader protocol instance too (leader restart).
        rig.Replica = new ReplicaProtocol(rig.Store, "r1", rig.Options);
        rig.Leader = new ReplicationLeaderProtocol(rig.Log, rig.Options);
        var offsets = new List<long>();
        rig.Run(100, frame =>
        {
            if (ReplicationFrameCodec.Decode(frame) is SnapshotChunkFrame chunk)
            {
                offsets.Add(chunk.Offset);
            }

            return frame;
        });
        Assert.Equal(staged, offsets.Min());
        Assert.Equal(1, rig.Store.InstalledSnapshotCount);
        Assert.Equal(60, rig.Store.LastLsn);
        ReplicationSimulationTests.AssertPrefix(rig.Log, rig.Store, rig.Replica, "resumed snapshot", "r1");
    }

    [Fact]
    public void SnapshotChecksumMismatch_Discarded_HaltsAfterAttempts()
    {
        var rig = new ReplicationTestRig();
        rig.Write(20);
        rig.Log.Prune(20);
        rig.Run(600, frame =>
        {
            if (ReplicationFrameCodec.Decode(frame) is SnapshotChunkFrame { Data.Length: > 0 } chunk)
            {
                byte[] data = chunk.Data.ToArray();
                data[0] ^= 0xFF; // damaged at the leader's disk: the frame itself is well formed
                return ReplicationFrameCodec.Encode(chunk with { Data = data });
            }

            return frame;
        });
        Assert.Equal(0, rig.Store.InstalledSnapshotCount);
        Assert.Equal(0, rig.Store.LastLsn);
        var error = Assert.IsType<ReplicationException>(rig.Replica.Divergence);
        Assert.Equal(ReplicationErrorCode.SnapshotRejected, error.Code);
    }

    [Fact]
    public void OlderEpochStream_Refused_NothingApplied()
    {
        var rig = new ReplicationTestRig();
        rig.Store.AdvanceEpoch(2);
        rig.Write(5); // the log is still at epoch 1: a deposed leader
        rig.Run(5);
        Assert.Equal(0, rig.Store.LastLsn);
        Assert.True(rig.Leader.IsFenced); // the replica's first status told it

        // A batch the deposed leader sent before it learned (still in flight) is refused too.
        var stale = new WalBatchFrame(1, 5, rig.Now, 0, 0, 5, rig.Log.AllRecords.SelectMany(r => r).ToArray());
        rig.Replica.Receive(ReplicationFrameCodec.Encode(stale), rig.Now, []);
        Assert.Equal(0, rig.Store.LastLsn);
        Assert.Equal(1, rig.Replica.GetStatus(rig.Now).RefusedEpochFrameCount);
        Assert.Null(rig.Replica.Divergence);
    }

    [Fact]
    public void Promotion_NewEpochAdopted_OldLeaderFencedByStatus()
    {
        var rig = new ReplicationTestRig();
        rig.Write(5);
        rig.Run(5);

        // Promote: a new leader at epoch 2 continues the same log.
        var newLog = new MemoryReplicationLog { Epoch = 2 };
        foreach (byte[] record in rig.Log.AllRecords)
        {
            newLog.AllRecords.Add(record);
        }

        newLog.Crcs.AddRange(rig.Log.Crcs);
        newLog.Append(9, 99);
        newLog.DurableLsn = newLog.LastLsn;
        var newLeader = new ReplicationLeaderProtocol(newLog, rig.Options);
        var replicaOut = new List<byte[]>();
        var leaderOut = new List<OutgoingFrame>();
        for (int i = 0; i < 5; i++)
        {
            rig.AdvanceTime(1000);
            rig.Replica.Tick(rig.Now, replicaOut);
            foreach (byte[] f in replicaOut.ToList())
            {
                newLeader.Receive(f, rig.Now, leaderOut);
            }

            replicaOut.Clear();
            foreach (OutgoingFrame f in leaderOut.ToList())
            {
                rig.Replica.Receive(f.Frame, rig.Now, replicaOut);
            }

            leaderOut.Clear();
        }

        Assert.Equal(2UL, rig.Store.Epoch);
        Assert.Equal(6, rig.Store.LastLsn);

        // The old leader (epoch 1) comes back: its stream is refused, and the replica's status fences it.
        rig.Log.Append(1, 1);
        rig.Log.DurableLsn = rig.Log.LastLsn;
        rig.Run(50); // past the replica's status interval
        Assert.Equal(6, rig.Store.LastLsn);
        Assert.True(rig.Leader.IsFenced);
        Assert.Contains("epoch 2", rig.Leader.FenceReason, StringComparison.Ordinal);
        var after = new List<OutgoingFrame>();
        rig.Leader.Tick(rig.Now + 10_000, after);
        Assert.Empty(after);
    }

    [Fact]
    public void NewLeaderWithDifferentHistory_ReplicaHaltsWhenHistoriesMeet()
    {
        var rig = new ReplicationTestRig();
        rig.Write(6);
        rig.Run(5);

        // Promoted from a replica that only had LSN 1..4, and wrote a different LSN 5 and 6.
        var newLog = new MemoryReplicationLog { Epoch = 2 };
        newLog.AllRecords.AddRange(rig.Log.AllRecords.Take(4));
        newLog.Crcs.AddRange(rig.Log.Crcs.Take(4));
        newLog.Append(15, -1);
        newLog.Append(14, -2);
        newLog.Append(13, -3);
        newLog.DurableLsn = newLog.LastLsn;
        rig.Leader = new ReplicationLeaderProtocol(newLog, rig.Options);
        rig.Run(150);
        var divergence = Assert.IsType<ReplicationDivergenceException>(rig.Replica.Divergence);
        Assert.Equal(6, divergence.ReplicaLsn);
        Assert.Equal(6, rig.Store.LastLsn);
    }

    [Fact]
    public void Retention_LeaderHoldsForSlowReplica_AndNamesIt()
    {
        var rig = new ReplicationTestRig(new ReplicationOptions { BatchRecordCountMax = 4, WindowRecordCountMax = 8, RetentionRecordCountMax = 50 });
        rig.Write(10);
        rig.Run(2);
        Assert.Equal("r1", rig.Leader.RetentionHolder);
        Assert.True(rig.Log.Holds["r1"] <= rig.Store.LastLsn);

        // Far behind the bound: the hold is released and the replica will need a snapshot.
        rig.Write(100);
        var frames = new List<OutgoingFrame>();
        rig.Leader.Receive(ReplicationFrameCodec.Encode(new ReplicaStatusFrame(1, "r1", 10, rig.Log.Crcs[9], 10, 0, 0, false)), rig.Now, frames);
        Assert.False(rig.Log.Holds.ContainsKey("r1"));
        Assert.Null(rig.Leader.RetentionHolder);
    }

    private static (byte[] Encoded, uint Crc) Forge(long lsn)
    {
        byte[] payload = new byte[9];
        payload[0] = 200;
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(1), 123456);
        byte[] encoded = new byte[WriteAheadLog.EncodedRecordLength(9)];
        uint crc = WriteAheadLog.EncodeRecord(encoded, lsn, WalRecordKind.Document, payload);
        return (encoded, crc);
    }
}
