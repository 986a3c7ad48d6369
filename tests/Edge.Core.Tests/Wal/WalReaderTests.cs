using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

public sealed class WalReaderTests
{
    [Fact]
    public void OpenReader_FromRandomLsns_ReadsExactlyTheRestAcrossSegmentBoundaries()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096));
        WalLogAssert.Fill(log, 600);
        Assert.True(log.SegmentCount > 5, $"seed {seed}: only {log.SegmentCount} segments");

        var starts = new List<long> { 1, 600, 601 };
        for (int i = 0; i < 40; i++)
        {
            starts.Add(random.Next(1, 602));
        }

        foreach (long from in starts)
        {
            var records = WalLogAssert.ReadAll(log, from);
            Assert.True(records.Count == 601 - from, $"seed {seed}: from {from} read {records.Count}");
            for (int i = 0; i < records.Count; i++)
            {
                Assert.True(records[i].Lsn == from + i, $"seed {seed}: from {from}, record {i} is LSN {records[i].Lsn}");
                Assert.True(records[i].Payload.AsSpan().SequenceEqual(TestRandom.Payload(from + i)), $"seed {seed}: payload of {from + i}");
            }
        }
    }

    [Fact]
    public void TryRead_AtEnd_ReturnsFalseThenSeesLaterAppendsIncludingNewSegments()
    {
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096));
        WalLogAssert.Fill(log, 10);
        using WalReader reader = log.OpenReader(11);
        Assert.False(reader.TryRead(out _));
        long expected = 11;
        for (int round = 0; round < 20; round++)
        {
            WalLogAssert.Fill(log, 17);
            while (reader.TryRead(out WalRecord record))
            {
                Assert.Equal(expected, record.Lsn);
                Assert.Equal(TestRandom.Payload(expected), record.Payload.ToArray());
                Assert.Equal(WalRecordKind.Document, record.Kind);
                Assert.Equal(record.Crc, WalRecordFormat.ComputeCrc(record.Encoded));
                expected++;
            }
        }

        Assert.Equal(log.LastLsn + 1, expected);
        Assert.True(log.SegmentCount > 2);
    }

    [Fact]
    public void OpenReader_PastEnd_Throws()
    {
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None));
        WalLogAssert.Fill(log, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => log.OpenReader(5));
    }

    [Fact]
    public async Task Reader_ConcurrentWithWriters_SeesEveryRecordOnceInOrder()
    {
        using var dir = new WalTestDirectory();
        using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 8192));
        const int writers = 4;
        const int perWriter = 5000;
        Task[] tasks = [.. Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            byte[] payload = new byte[12];
            for (int i = 0; i < perWriter; i++)
            {
                BitConverter.TryWriteBytes(payload, w * perWriter + i);
                log.Append(WalRecordKind.Document, payload);
            }
        }))];

        var seen = new bool[writers * perWriter];
        long expected = 1;
        using (WalReader reader = log.OpenReader(1))
        {
            Task all = Task.WhenAll(tasks);
            while (expected <= writers * perWriter)
            {
                if (reader.TryRead(out WalRecord record))
                {
                    Assert.Equal(expected++, record.Lsn);
                    int id = BitConverter.ToInt32(record.Payload);
                    Assert.False(seen[id], $"payload {id} seen twice");
                    seen[id] = true;
                }
                else if (all.IsFaulted)
                {
                    await all;
                }
                else
                {
                    Thread.Yield();
                }
            }
        }

        await Task.WhenAll(tasks);
        Assert.All(seen, Assert.True);
    }
}
