using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

public sealed class WriteAheadLogDurabilityTests
{
    [Fact]
    public async Task GroupCommit_ConcurrentWriters_EveryCompletedWaitIsDurable_AndFlushesAreShared()
    {
        using var dir = new WalTestDirectory();
        var fileSystem = new FaultInjectingWalFileSystem { FlushDelayMilliseconds = 2 };
        const int writers = 8;
        const int perWriter = 150;
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<long>();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Group(TimeSpan.FromMilliseconds(20)), segmentBytes: 16384, fileSystem: fileSystem)))
        {
            Task[] tasks = [.. Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
            {
                for (int i = 0; i < perWriter; i++)
                {
                    long lsn;
                    lock (acknowledged)
                    {
                        // Payloads are a function of the LSN, so append under a lock that pairs them.
                        lsn = log.Append(WalRecordKind.Document, TestRandom.Payload(log.LastLsn + 1));
                    }

                    await log.WaitForDurableAsync(lsn);
                    Assert.True(log.DurableLsn >= lsn, $"wait for {lsn} returned with durable LSN {log.DurableLsn}");
                    acknowledged.Add(lsn);
                }
            }))];
            await Task.WhenAll(tasks);
            Assert.Equal(writers * perWriter, acknowledged.Count);
            Assert.True(log.FlushCount < writers * perWriter / 2, $"{log.FlushCount} flushes for {writers * perWriter} waits: not grouped");
            fileSystem.CutPower();
        }

        // Whatever the power cut kept, it holds every acknowledged record.
        fileSystem.RestoreDurableImage(dir.Path);
        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 16384));
        Assert.Equal(writers * perWriter, reopened.LastLsn);
        WalLogAssert.HoldsExactly(reopened, 1, writers * perWriter, "group commit");
    }

    [Fact]
    public async Task GroupMode_CanceledWait_ThrowsCanceled_LaterWaitsStillComplete()
    {
        using var dir = new WalTestDirectory();
        var fileSystem = new FaultInjectingWalFileSystem { FlushDelayMilliseconds = 300 };
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Group(TimeSpan.FromMilliseconds(5)), fileSystem: fileSystem));
        long first = log.Append(WalRecordKind.Document, [1]);
        await log.WaitForDurableAsync(first); // a flush is slow from here on
        // A lone writer leads its own (slow) flush; a writer arriving meanwhile queues and can cancel.
        int flushCalls = fileSystem.FlushCalls;
        long second = log.Append(WalRecordKind.Document, [2]);
        Task leader = Task.Run(async () => await log.WaitForDurableAsync(second));
        SpinWait.SpinUntil(() => fileSystem.FlushCalls > flushCalls);
        long third = log.Append(WalRecordKind.Document, [3]);
        using var cancel = new CancellationTokenSource();
        ValueTask wait = log.WaitForDurableAsync(third, cancel.Token);
        Assert.False(wait.IsCompleted, "the wait was queued behind the flush under way");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
        await leader;
        for (int i = 0; i < 20; i++)
        {
            long lsn = log.Append(WalRecordKind.Document, [3]);
            await log.WaitForDurableAsync(lsn);
            Assert.True(log.DurableLsn >= lsn);
            fileSystem.FlushDelayMilliseconds = 0;
        }
    }

    [Fact]
    public async Task GroupMode_WriterCompletingTheCohort_LeadsTheFlush_APartialCohortIsFlushedByTheFlusher()
    {
        using var dir = new WalTestDirectory();
        var fileSystem = new FaultInjectingWalFileSystem { FlushDelayMilliseconds = 200 };
        // An interval of 30 s: only a waiter's request (or a leader) flushes before the assertions; and
        // the flusher leaves a forming cohort alone for 2 s, so it does not race the cohort below.
        WalOptions small = WalLogAssert.Small(WalDurability.Group(TimeSpan.FromSeconds(30)), fileSystem: fileSystem);
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, new WalOptions
        {
            Durability = small.Durability, SegmentBytes = small.SegmentBytes, QuotaBytes = small.QuotaBytes,
            ReplicaId = small.ReplicaId, FileSystem = fileSystem, GroupCohortWait = TimeSpan.FromSeconds(2),
        });
        long first = log.Append(WalRecordKind.Document, [0]);
        int flushCalls = fileSystem.FlushCalls;
        Task slow = Task.Run(async () => await log.FlushAsync());
        SpinWait.SpinUntil(() => fileSystem.FlushCalls > flushCalls);
        // Four writers wait while that slow flush runs: the flusher's next flush releases them together.
        ValueTask[] cohort = [.. Enumerable.Range(1, 4).Select(i => log.WaitForDurableAsync(log.Append(WalRecordKind.Document, [(byte)i])))];
        await slow;
        foreach (ValueTask wait in cohort)
        {
            await wait;
        }

        fileSystem.FlushDelayMilliseconds = 0;
        long flushes = log.FlushCount;
        // The cohort of four comes back: the first three queue, the fourth leads the flush on its own thread.
        ValueTask[] queued = [.. Enumerable.Range(0, 3).Select(i => log.WaitForDurableAsync(log.Append(WalRecordKind.Document, [(byte)i])))];
        Assert.DoesNotContain(queued, wait => wait.IsCompleted);
        Assert.Equal(flushes, log.FlushCount);
        ValueTask fourth = log.WaitForDurableAsync(log.Append(WalRecordKind.Document, [4]));
        Assert.True(fourth.IsCompletedSuccessfully, "the writer completing the cohort did not lead the flush");
        Assert.Equal(log.LastLsn, log.DurableLsn);
        foreach (ValueTask wait in queued)
        {
            await wait;
        }

        // One writer alone is not the cohort (of four): it does not lead, and the flusher flushes it
        // after the cohort wait, long before the 30 s interval.
        Task alone = log.WaitForDurableAsync(log.Append(WalRecordKind.Document, [9])).AsTask();
        Task finished = await Task.WhenAny(alone, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.Same(alone, finished);
        await alone;
        Assert.True(first < log.DurableLsn);
    }

    [Fact]
    public async Task GroupMode_ContinuationThatBlocksOnAnotherWaitThenDisposes_DoesNotDeadlock()
    {
        using var dir = new WalTestDirectory();
        WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Group(TimeSpan.FromSeconds(30))));
        await Task.Run(() => ContinueAfterWaitsAsync(log));
        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None));
        Assert.Equal(3, reopened.LastLsn);
    }

    /// <summary>Continuations run on whichever thread completed each wait; none may be the flusher.</summary>
    private static async Task ContinueAfterWaitsAsync(WriteAheadLog log)
    {
        await log.WaitForDurableAsync(log.Append(WalRecordKind.Document, [1])).ConfigureAwait(false);
        Assert.NotEqual("wal-flusher", Thread.CurrentThread.Name);
        long second = log.Append(WalRecordKind.Document, [2]);
        BlockUntilDurable(log, second);
        Assert.True(log.DurableLsn >= second);
        await log.WaitForDurableAsync(log.Append(WalRecordKind.Document, [3])).ConfigureAwait(false);
        Assert.NotEqual("wal-flusher", Thread.CurrentThread.Name);
        log.Dispose();
    }

    private static void BlockUntilDurable(WriteAheadLog log, long lsn) => log.WaitForDurableAsync(lsn).AsTask().Wait();

    [Fact]
    public async Task GroupMode_UnwaitedAppend_IsFlushedWithinTheInterval()
    {
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Group(TimeSpan.FromMilliseconds(5))));
        long lsn = log.Append(WalRecordKind.Document, [1, 2, 3]);
        // No waiter asks; the flusher's interval bounds how long the record stays volatile.
        for (int i = 0; i < 2000 && log.DurableLsn < lsn; i++)
        {
            await Task.Delay(5);
        }

        Assert.Equal(lsn, log.DurableLsn);
    }

    [Fact]
    public async Task PeriodicMode_AcknowledgesAtOnce_AndFlushesInBackground()
    {
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Periodic(TimeSpan.FromMilliseconds(5))));
        long lsn = log.Append(WalRecordKind.Document, [1]);
        Assert.True(log.WaitForDurableAsync(lsn).IsCompletedSuccessfully);
        for (int i = 0; i < 2000 && log.DurableLsn < lsn; i++)
        {
            await Task.Delay(5);
        }

        Assert.Equal(lsn, log.DurableLsn);
    }

    [Fact]
    public async Task AlwaysMode_WaitFlushesBeforeReturning()
    {
        using var dir = new WalTestDirectory();
        var fileSystem = new FaultInjectingWalFileSystem();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Always, fileSystem: fileSystem));
        int before = fileSystem.FlushCalls;
        long lsn = log.Append(WalRecordKind.Document, [1]);
        Assert.Equal(0, log.DurableLsn);
        await log.WaitForDurableAsync(lsn);
        Assert.Equal(lsn, log.DurableLsn);
        Assert.True(fileSystem.FlushCalls > before);
    }

    [Fact]
    public async Task NoneMode_WaitCompletesAtOnce_DisposeFlushes()
    {
        using var dir = new WalTestDirectory();
        var fileSystem = new FaultInjectingWalFileSystem();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, fileSystem: fileSystem)))
        {
            WalLogAssert.Fill(log, 20);
            Assert.True(log.WaitForDurableAsync(20).IsCompletedSuccessfully);
            Assert.Equal(0, log.DurableLsn);
            await log.FlushAsync();
            Assert.Equal(20, log.DurableLsn);
            WalLogAssert.Fill(log, 5);
        }

        fileSystem.RestoreDurableImage(dir.Path);
        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None));
        WalLogAssert.HoldsExactly(reopened, 1, 25, "dispose flushed");
    }

    [Fact]
    public void Append_TooLarge_OrKindNone_IsRejectedClearly()
    {
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096));
        var error = Assert.Throws<EdgeException>(() => log.Append(WalRecordKind.Document, new byte[4096]));
        Assert.Equal(EdgeErrorCode.WalRecordTooLarge, error.Code);
        Assert.Contains("4096 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, log.Append(WalRecordKind.Document, new byte[log.PayloadBytesMax]));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Append(WalRecordKind.None, [1]));
    }
}
