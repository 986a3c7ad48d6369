using System.Collections.Concurrent;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

public sealed class WriteAheadLogConcurrencyTests
{
    [Fact]
    public async Task WritersReaderAndCheckpointerTogether_EveryAcknowledgedRecordReadOnceInOrder_LogStaysBounded()
    {
        using var dir = new WalTestDirectory();
        const long segmentBytes = 16384;
        const long quotaBytes = 32 * segmentBytes;
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.Group(TimeSpan.FromMilliseconds(2)), segmentBytes, quotaBytes));
        const int writers = 4;
        const int perWriter = 1500;
        var acknowledged = new ConcurrentDictionary<long, int>();

        // The checkpointer: reads what was appended, checks it, checkpoints it (which trims).
        Task<long> checkpointer = Task.Run(() =>
        {
            using WalReader reader = log.OpenReader(1);
            long expected = 1;
            while (expected <= writers * perWriter)
            {
                while (reader.TryRead(out WalRecord record))
                {
                    Assert.Equal(expected, record.Lsn);
                    Assert.Equal(4, record.Payload.Length);
                    expected++;
                }

                log.SetCheckpointLsn(expected - 1);
                Thread.Yield();
            }

            return expected - 1;
        });

        Task[] writing = [.. Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            byte[] payload = new byte[4];
            for (int i = 0; i < perWriter; i++)
            {
                BitConverter.TryWriteBytes(payload, w * perWriter + i);
                long lsn = log.Append(WalRecordKind.Document, payload);
                await log.WaitForDurableAsync(lsn);
                Assert.True(log.DurableLsn >= lsn);
                Assert.True(acknowledged.TryAdd(lsn, w * perWriter + i), $"LSN {lsn} returned twice");
            }
        }))];
        await Task.WhenAll(writing);
        Assert.Equal(writers * perWriter, await checkpointer);
        Assert.Equal(writers * perWriter, acknowledged.Count);
        Assert.Equal(Enumerable.Range(1, writers * perWriter).Select(i => (long)i), acknowledged.Keys.Order());
        Assert.True(log.UsedBytes <= quotaBytes);
        Assert.True(log.SegmentCount <= 2, $"{log.SegmentCount} segments after everything was checkpointed");
    }
}
