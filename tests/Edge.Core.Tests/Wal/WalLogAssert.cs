using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

/// <summary>Shared steps of the WAL tests: fill a log, read it back.</summary>
internal static class WalLogAssert
{
    public static WalOptions Small(WalDurability durability, long segmentBytes = 8192, long quotaBytes = 1 << 24, IWalFileSystem? fileSystem = null) => new()
    {
        Durability = durability,
        SegmentBytes = segmentBytes,
        QuotaBytes = quotaBytes,
        ReplicaId = 0xC0FFEE,
        FileSystem = fileSystem,
    };

    /// <summary>Appends records 1..count with <see cref="TestRandom.Payload"/> payloads.</summary>
    public static void Fill(WriteAheadLog log, long count)
    {
        for (long i = 0; i < count; i++)
        {
            long lsn = log.LastLsn + 1;
            Assert.Equal(lsn, log.Append(WalRecordKind.Document, TestRandom.Payload(lsn)));
        }
    }

    /// <summary>Reads every record from <paramref name="fromLsn"/> and returns (lsn, kind, payload).</summary>
    public static List<(long Lsn, WalRecordKind Kind, byte[] Payload)> ReadAll(WriteAheadLog log, long fromLsn)
    {
        var records = new List<(long, WalRecordKind, byte[])>();
        using WalReader reader = log.OpenReader(fromLsn);
        while (reader.TryRead(out WalRecord record))
        {
            records.Add((record.Lsn, record.Kind, record.Payload.ToArray()));
        }

        return records;
    }

    /// <summary>Asserts the log holds exactly records first..last with their deterministic payloads.</summary>
    public static void HoldsExactly(WriteAheadLog log, long first, long last, string context)
    {
        Assert.Equal(first, log.FirstLsn);
        Assert.Equal(last, log.LastLsn);
        var records = ReadAll(log, first);
        Assert.Equal(last - first + 1, records.Count);
        for (int i = 0; i < records.Count; i++)
        {
            Assert.True(records[i].Lsn == first + i, $"{context}: record {i} has LSN {records[i].Lsn}");
            Assert.True(records[i].Payload.AsSpan().SequenceEqual(TestRandom.Payload(first + i)), $"{context}: payload of LSN {first + i} differs");
        }
    }

    /// <summary>Byte offset (in the segment file) and length of each record, by walking the encoding.</summary>
    public static List<(long Offset, int Length)> RecordExtents(byte[] segment)
    {
        var extents = new List<(long, int)>();
        long offset = WalSegmentHeader.HeaderBytes;
        while (WalRecordFormat.Check(segment.AsSpan((int)offset), 0, out WalRecordHeader header) == WalRecordStatus.Valid)
        {
            extents.Add((offset, header.EncodedLength));
            offset += header.EncodedLength;
        }

        return extents;
    }
}
