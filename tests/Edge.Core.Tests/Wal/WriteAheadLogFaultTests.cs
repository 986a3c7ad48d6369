using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

public sealed class WriteAheadLogFaultTests
{
    public static TheoryData<WalFaultKind, WalDurabilityMode> FlushFaults()
    {
        var data = new TheoryData<WalFaultKind, WalDurabilityMode>();
        foreach (WalFaultKind kind in new[] { WalFaultKind.FlushFails, WalFaultKind.Eio, WalFaultKind.ShortWrite })
        {
            data.Add(kind, WalDurabilityMode.Always);
            data.Add(kind, WalDurabilityMode.Group);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FlushFaults))]
    public async Task FailedFlush_CoveredWritesNotAcknowledged_LogRefusesWrites_ReopenRecoversEveryAcknowledgedRecord(WalFaultKind kind, WalDurabilityMode mode)
    {
        using var dir = new WalTestDirectory();
        var fileSystem = new FaultInjectingWalFileSystem();
        WalDurability durability = mode == WalDurabilityMode.Always ? WalDurability.Always : WalDurability.Group(TimeSpan.FromMilliseconds(2));
        var acknowledged = new List<long>();
        EdgeException? failure = null;
        long failedLsn = 0;
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(durability, segmentBytes: 16384, fileSystem: fileSystem)))
        {
            // Several segments of acknowledged writes, then the fault on a later flush.
            fileSystem.Arm(kind, skip: 40);
            for (int i = 0; i < 400 && failure is null; i++)
            {
                long lsn = log.Append(WalRecordKind.Document, TestRandom.Payload(log.LastLsn + 1));
                try
                {
                    await log.WaitForDurableAsync(lsn);
                    Assert.True(log.DurableLsn >= lsn, $"acknowledged LSN {lsn} above durable LSN {log.DurableLsn}");
                    acknowledged.Add(lsn);
                }
                catch (EdgeException ex)
                {
                    failure = ex;
                    failedLsn = lsn;
                }
            }

            Assert.Equal(1, fileSystem.Fired(kind));
            Assert.NotNull(failure);
            Assert.Equal(EdgeErrorCode.WalFaulted, failure.Code);
            Assert.Contains($"injected {kind}", failure.Message, StringComparison.Ordinal);
            Assert.True(log.IsFaulted);
            Assert.True(log.DurableLsn < failedLsn, $"durable LSN {log.DurableLsn} covers the failed write {failedLsn}");

            // Never retried into a success: appends, waits and flushes keep failing until reopen.
            var append = Assert.Throws<EdgeException>(() => log.Append(WalRecordKind.Document, [1, 2, 3]));
            Assert.Equal(EdgeErrorCode.WalFaulted, append.Code);
            var wait = await Assert.ThrowsAsync<EdgeException>(async () => await log.WaitForDurableAsync(failedLsn));
            Assert.Equal(EdgeErrorCode.WalFaulted, wait.Code);
            var flush = await Assert.ThrowsAsync<EdgeException>(async () => await log.FlushAsync());
            Assert.Equal(EdgeErrorCode.WalFaulted, flush.Code);
        }

        Assert.True(acknowledged.Count >= 40, $"{acknowledged.Count} acknowledged before the fault");
        fileSystem.RestoreDurableImage(dir.Path); // power loss: only what flushes made durable remains

        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(durability, segmentBytes: 16384));
        Assert.True(reopened.LastLsn >= acknowledged[^1], $"{kind}/{mode}: reopened log ends at {reopened.LastLsn}, acknowledged up to {acknowledged[^1]}");
        WalLogAssert.HoldsExactly(reopened, 1, reopened.LastLsn, $"{kind}/{mode} after reopen");
        long next = reopened.Append(WalRecordKind.Document, TestRandom.Payload(reopened.LastLsn + 1));
        await reopened.WaitForDurableAsync(next);
    }

    [Fact]
    public async Task PeriodicFlushFails_LaterAppendsAreRefused_ReopenKeepsWhatWasDurable()
    {
        using var dir = new WalTestDirectory();
        var fileSystem = new FaultInjectingWalFileSystem();
        long durableBefore;
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Periodic(TimeSpan.FromMilliseconds(2)), fileSystem: fileSystem)))
        {
            WalLogAssert.Fill(log, 10);
            await log.FlushAsync();
            durableBefore = log.DurableLsn;
            fileSystem.Arm(WalFaultKind.FlushFails);
            WalLogAssert.Fill(log, 5);
            for (int i = 0; i < 2000 && !log.IsFaulted; i++)
            {
                await Task.Delay(5); // the background flush hits the fault
            }

            Assert.True(log.IsFaulted);
            Assert.Equal(durableBefore, log.DurableLsn);
            var error = Assert.Throws<EdgeException>(() => log.Append(WalRecordKind.Document, [1]));
            Assert.Equal(EdgeErrorCode.WalFaulted, error.Code);
        }

        fileSystem.RestoreDurableImage(dir.Path);
        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None));
        Assert.True(reopened.LastLsn >= durableBefore);
        WalLogAssert.HoldsExactly(reopened, 1, reopened.LastLsn, "periodic fault");
    }

    [Fact]
    public async Task NoSpaceAtPreallocate_AppendFailsWithDiskFull_LogStaysUsableOnceSpaceIsBack()
    {
        using var dir = new WalTestDirectory();
        var fileSystem = new FaultInjectingWalFileSystem();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Always, segmentBytes: 4096, fileSystem: fileSystem));
        fileSystem.Arm(WalFaultKind.NoSpaceAtPreallocate, persistent: true);
        long acknowledgedLast = 0;
        EdgeException? diskFull = null;
        for (int i = 0; i < 500 && diskFull is null; i++)
        {
            try
            {
                long lsn = log.Append(WalRecordKind.Document, TestRandom.Payload(log.LastLsn + 1));
                await log.WaitForDurableAsync(lsn);
                acknowledgedLast = lsn;
            }
            catch (EdgeException ex)
            {
                diskFull = ex;
            }
        }

        Assert.NotNull(diskFull);
        Assert.Equal(EdgeErrorCode.DiskFull, diskFull.Code);
        Assert.Contains("no space left", diskFull.Message, StringComparison.Ordinal);
        Assert.False(log.IsFaulted);
        Assert.Equal(acknowledgedLast, log.LastLsn);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
        Assert.Throws<EdgeException>(() => log.Append(WalRecordKind.Document, TestRandom.Payload(log.LastLsn + 1)));

        fileSystem.Disarm();
        WalLogAssert.Fill(log, 50);
        await log.FlushAsync();
        WalLogAssert.HoldsExactly(log, 1, acknowledgedLast + 50, "after space came back");
    }

    [Theory]
    [InlineData(WalFaultKind.SyncDataFails)]
    [InlineData(WalFaultKind.SyncDirectoryFails)]
    public async Task SegmentCreationSyncFails_AppendFailsWithIoError_NoHalfCreatedSegmentRemains(WalFaultKind kind)
    {
        using var dir = new WalTestDirectory();
        var fileSystem = new FaultInjectingWalFileSystem();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Always, segmentBytes: 4096, fileSystem: fileSystem));
        fileSystem.Arm(kind);
        EdgeException? error = null;
        for (int i = 0; i < 500 && error is null; i++)
        {
            try
            {
                await log.WaitForDurableAsync(log.Append(WalRecordKind.Document, TestRandom.Payload(log.LastLsn + 1)));
            }
            catch (EdgeException ex)
            {
                error = ex;
            }
        }

        Assert.NotNull(error);
        Assert.Equal(EdgeErrorCode.WalIoError, error.Code);
        Assert.Contains($"injected {kind}", error.Message, StringComparison.Ordinal);
        long last = log.LastLsn;
        WalLogAssert.Fill(log, 20);
        await log.FlushAsync();
        WalLogAssert.HoldsExactly(log, 1, last + 20, $"after {kind}");
    }

    [Fact]
    public async Task PowerLossInGroupMode_EveryAcknowledgedRecordSurvives()
    {
        using var dir = new WalTestDirectory();
        var fileSystem = new FaultInjectingWalFileSystem();
        long acknowledgedLast = 0;
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Group(TimeSpan.FromMilliseconds(50)), segmentBytes: 8192, fileSystem: fileSystem)))
        {
            for (int i = 0; i < 300; i++)
            {
                long lsn = log.Append(WalRecordKind.Document, TestRandom.Payload(log.LastLsn + 1));
                if (i % 10 == 0)
                {
                    await log.WaitForDurableAsync(lsn);
                    acknowledgedLast = lsn;
                }
            }

            fileSystem.CutPower();
        }

        fileSystem.RestoreDurableImage(dir.Path);
        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 8192));
        Assert.True(reopened.LastLsn >= acknowledgedLast, $"reopened at {reopened.LastLsn}, acknowledged {acknowledgedLast}");
        WalLogAssert.HoldsExactly(reopened, 1, reopened.LastLsn, "after power loss");
    }
}
