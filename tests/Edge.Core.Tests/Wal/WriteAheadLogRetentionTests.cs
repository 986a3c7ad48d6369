using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

public sealed class WriteAheadLogRetentionTests
{
    [Fact]
    public void Append_PastQuota_FailsClearly_AndWorksAgainAfterCheckpointTrims()
    {
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096, quotaBytes: 4 * 4096));
        EdgeException? error = null;
        while (error is null)
        {
            try
            {
                log.Append(WalRecordKind.Document, TestRandom.Payload(log.LastLsn + 1));
            }
            catch (EdgeException ex)
            {
                error = ex;
            }
        }

        Assert.Equal(EdgeErrorCode.WalQuotaExceeded, error.Code);
        Assert.Contains("quota of 16384 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("checkpoint", error.Message, StringComparison.Ordinal);
        Assert.Equal(4 * 4096, log.UsedBytes);
        Assert.Equal(log.QuotaBytes, log.UsedBytes);
        Assert.False(log.TryAppend(WalRecordKind.Document, new byte[log.PayloadBytesMax], out _)); // needs a new segment
        long lastBefore = log.LastLsn;

        log.SetCheckpointLsn(lastBefore);
        Assert.Equal(4096, log.UsedBytes);
        Assert.Single(dir.Segments());
        Assert.True(log.FirstLsn > 1);
        WalLogAssert.Fill(log, 100);
        WalLogAssert.HoldsExactly(log, log.FirstLsn, lastBefore + 100, "after trim");
    }

    [Fact]
    public void Trim_KeepsSegmentsNeededByRetentionHoldUntilReleased()
    {
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096));
        WalLogAssert.Fill(log, 400);
        log.SetRetentionHold("upstream", 150);
        log.SetRetentionHold("follower", 250);
        log.SetCheckpointLsn(400);
        Assert.True(log.FirstLsn <= 150, $"first LSN {log.FirstLsn} trimmed past the upstream hold");
        WalLogAssert.HoldsExactly(log, log.FirstLsn, 400, "held");

        log.ReleaseRetentionHold("upstream");
        Assert.True(log.FirstLsn is > 150 and <= 250, $"first LSN {log.FirstLsn} with only the follower hold at 250");
        log.ReleaseRetentionHold("follower");
        Assert.Equal(1, log.SegmentCount);
        var trimmed = Assert.Throws<EdgeException>(() => log.OpenReader(1));
        Assert.Equal(EdgeErrorCode.WalPositionTrimmed, trimmed.Code);
        Assert.Contains($"oldest record on disk is LSN {log.FirstLsn}", trimmed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trim_NeverDeletesRecordsAboveCheckpoint()
    {
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096));
        WalLogAssert.Fill(log, 400);
        log.SetCheckpointLsn(200);
        Assert.True(log.FirstLsn <= 201, $"first LSN {log.FirstLsn} past checkpoint 200");
        Assert.True(log.FirstLsn > 1, "nothing trimmed below checkpoint");
        log.SetCheckpointLsn(100); // never moves back
        Assert.Equal(200, log.CheckpointLsn);
        Assert.Throws<ArgumentOutOfRangeException>(() => log.SetCheckpointLsn(401));
    }

    [Fact]
    public void ReaderHeldOpenDuring100kAppends_DoesNotStopTrimming_AndReportsTrimmedPosition()
    {
        using var dir = new WalTestDirectory();
        const long quota = 16 * 65536;
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 65536, quotaBytes: quota));
        using WalReader stalled = log.OpenReader(1);
        using WalReader following = log.OpenReader(1);
        byte[] payload = new byte[24];
        long followed = 0;
        for (int i = 1; i <= 100_000; i++)
        {
            BitConverter.TryWriteBytes(payload, (long)i);
            log.Append(WalRecordKind.Document, payload);
            if (i % 1000 == 0)
            {
                while (following.TryRead(out WalRecord record))
                {
                    Assert.Equal(++followed, record.Lsn);
                    Assert.Equal(record.Lsn, BitConverter.ToInt64(record.Payload));
                }

                log.SetCheckpointLsn(log.LastLsn);
                Assert.True(log.UsedBytes <= quota, $"used {log.UsedBytes} bytes at append {i}");
            }
        }

        Assert.Equal(100_000, followed);
        Assert.True(log.SegmentCount <= 2, $"{log.SegmentCount} segments left");
        Assert.Equal(log.SegmentCount, dir.Segments().Length);

        // The stalled reader still reads the segment it pinned (its first), then finds the rest trimmed.
        long read = 0;
        var error = Assert.Throws<EdgeException>(() =>
        {
            while (stalled.TryRead(out WalRecord record))
            {
                Assert.Equal(++read, record.Lsn);
            }
        });
        Assert.Equal(EdgeErrorCode.WalPositionTrimmed, error.Code);
        Assert.True(read > 0, "the pinned segment was not readable");
        Assert.Equal(read + 1, stalled.NextLsn);
    }
}
