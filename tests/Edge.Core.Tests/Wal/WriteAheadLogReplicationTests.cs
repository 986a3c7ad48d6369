using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

public sealed class WriteAheadLogReplicationTests
{
    private static WalOptions Options(long segmentBytes = 4096) => new() { SegmentBytes = segmentBytes, Durability = WalDurability.None };

    [Fact]
    public void AppendEncoded_CopiesLeaderRecordsVerbatim_AcrossSegments_SurvivesReopen()
    {
        using var leaderDir = new WalTestDirectory();
        using var replicaDir = new WalTestDirectory();
        using (WriteAheadLog leader = WriteAheadLog.Open(leaderDir.Path, Options()))
        using (WriteAheadLog replica = WriteAheadLog.Open(replicaDir.Path, Options()))
        {
            for (long i = 1; i <= 300; i++)
            {
                leader.Append(WalRecordKind.Document, TestRandom.Payload(i));
            }

            using WalReader reader = leader.OpenReader(1);
            while (reader.TryRead(out WalRecord record))
            {
                WalRecordInfo info = replica.AppendEncoded(record.Encoded);
                Assert.Equal(record.Lsn, info.Lsn);
                Assert.Equal(record.Crc, info.Crc);
            }

            Assert.True(replica.SegmentCount > 1);
        }

        using WriteAheadLog leaderAgain = WriteAheadLog.Open(leaderDir.Path, Options());
        using WriteAheadLog replicaAgain = WriteAheadLog.Open(replicaDir.Path, Options());
        Assert.Equal(300, replicaAgain.LastLsn);
        using WalReader a = leaderAgain.OpenReader(1);
        using WalReader b = replicaAgain.OpenReader(1);
        for (int i = 0; i < 300; i++)
        {
            Assert.True(a.TryRead(out WalRecord x));
            Assert.True(b.TryRead(out WalRecord y));
            Assert.True(x.Encoded.SequenceEqual(y.Encoded), $"record {x.Lsn} differs");
        }
    }

    [Fact]
    public void AppendEncoded_WrongLsnOrDamagedOrTrailingBytes_RefusedNothingAppended()
    {
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, Options());
        byte[] record = new byte[WriteAheadLog.EncodedRecordLength(10)];
        WriteAheadLog.EncodeRecord(record, 2, WalRecordKind.Document, new byte[10]);
        var wrongLsn = Assert.Throws<EdgeException>(() => log.AppendEncoded(record));
        Assert.Equal(EdgeErrorCode.ReplicationApplyRejected, wrongLsn.Code);
        Assert.Contains("LSN 2", wrongLsn.Message, StringComparison.Ordinal);

        WriteAheadLog.EncodeRecord(record, 1, WalRecordKind.Document, new byte[10]);
        byte[] damaged = record.ToArray();
        damaged[22] ^= 1;
        Assert.Equal(EdgeErrorCode.ReplicationApplyRejected, Assert.Throws<EdgeException>(() => log.AppendEncoded(damaged)).Code);
        Assert.Equal(EdgeErrorCode.ReplicationApplyRejected, Assert.Throws<EdgeException>(() => log.AppendEncoded([.. record, .. new byte[8]])).Code);
        Assert.Equal(0, log.LastLsn);
        Assert.Equal(1, log.AppendEncoded(record).Lsn);
    }

    [Fact]
    public void AdvanceEpoch_WrittenInNewSegmentHeader_RecoveredOnOpen_NeverBack()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, Options()))
        {
            Assert.Equal(1UL, log.LogEpoch);
            log.AdvanceEpoch(2); // empty log: the only segment is rewritten
            log.Append(WalRecordKind.Document, [1, 2, 3]);
            log.AdvanceEpoch(5); // a new segment starts at LSN 2
            log.AdvanceEpoch(6); // the empty active segment is rewritten
            Assert.Throws<ArgumentOutOfRangeException>(() => log.AdvanceEpoch(3));
            log.Append(WalRecordKind.Document, [4]);
        }

        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, Options());
        Assert.Equal(6UL, reopened.LogEpoch);
        Assert.Equal(2, reopened.LastLsn);
        Assert.Equal(2, dir.Segments().Length);
    }

    [Fact]
    public void CreateEmpty_LogStartsAfterSnapshotLsn()
    {
        using var dir = new WalTestDirectory();
        WriteAheadLog.CreateEmpty(dir.Path, Options(), 1001, 3);
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, Options());
        Assert.Equal(1000, log.LastLsn);
        Assert.Equal(3UL, log.LogEpoch);
        Assert.Equal(1001, log.Append(WalRecordKind.Document, [9]));
        Assert.Throws<InvalidOperationException>(() => WriteAheadLog.CreateEmpty(dir.Path, Options(), 5, 1));
    }
}
