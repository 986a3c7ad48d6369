using CortexEdge.Core.Clocks;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// The snapshot encoding of <see cref="EdgeDatabaseLeaderStore"/>: the leader's version vector and
/// clock, then its state as idempotent ops (<see cref="Core.EdgeDatabase.ExportReplicatedState"/>).
/// Layout (little-endian, varint = LEB128): magic <c>CESD</c>, version 1, leader replica id u64,
/// leader HLC time u64, version-vector count varint and entries (origin u64, seq varint), record
/// count varint, then per record: kind u8, HLC time u64, HLC replica u64, body length varint, body.
/// </summary>
internal static class DatabaseSnapshotCodec
{
    public const uint Magic = 0x44534543; // "CESD"
    public const byte Version = 1;

    /// <summary>Assembles a snapshot from the exported records (already encoded by <see cref="WriteRecord"/>).</summary>
    public static byte[] Encode(ulong leaderReplica, ulong clockTime, VersionVector versions, long recordCount, ReadOnlySpan<byte> records)
    {
        // The header alone in a small writer, then header and records into the result: one copy of
        // the records (a snapshot can be most of a small board's memory).
        using var writer = new FrameBodyWriter(64 + (versions.Count * 18));
        writer.WriteUInt32(Magic);
        writer.WriteByte(Version);
        writer.WriteUInt64(leaderReplica);
        writer.WriteUInt64(clockTime);
        writer.WriteVarint((ulong)versions.Count);
        foreach (KeyValuePair<ulong, ulong> entry in versions.Entries)
        {
            writer.WriteUInt64(entry.Key);
            writer.WriteVarint(entry.Value);
        }

        writer.WriteVarint((ulong)recordCount);
        ReadOnlySpan<byte> header = writer.Written;
        byte[] snapshot = new byte[header.Length + records.Length];
        header.CopyTo(snapshot);
        records.CopyTo(snapshot.AsSpan(header.Length));
        return snapshot;
    }

    /// <summary>Appends one exported record to <paramref name="writer"/>.</summary>
    public static void WriteRecord(FrameBodyWriter writer, WalRecordKind kind, HlcTimestamp timestamp, ReadOnlySpan<byte> body)
    {
        writer.WriteByte((byte)kind);
        writer.WriteUInt64(timestamp.Time);
        writer.WriteUInt64(timestamp.ReplicaId);
        writer.WriteVarint((ulong)body.Length);
        writer.WriteBytes(body);
    }

    /// <summary>Reads the header and version vector; <paramref name="recordsOffset"/> is where the records start.</summary>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.StoreFailure"/>: not a snapshot of this format.</exception>
    public static (ulong LeaderReplica, ulong ClockTime, VersionVector Versions, long RecordCount) ReadHeader(ReadOnlySpan<byte> data, out int recordsOffset)
    {
        var reader = new FrameBodyReader(data);
        uint magic = reader.ReadUInt32();
        byte version = reader.ReadByte();
        if (reader.Failed || magic != Magic || version != Version)
        {
            throw Malformed($"magic 0x{magic:X8} version {version}, expected 0x{Magic:X8} version {Version}");
        }

        ulong leader = reader.ReadUInt64();
        ulong clock = reader.ReadUInt64();
        int count = reader.ReadVarintInt32(VersionVector.EntryCountMax);
        var versions = new VersionVector();
        for (int i = 0; i < count && !reader.Failed; i++)
        {
            ulong origin = reader.ReadUInt64();
            versions.AdvanceTo(origin, reader.ReadVarint());
        }

        long records = reader.ReadVarintInt64();
        if (reader.Failed || records < 0)
        {
            throw Malformed("truncated header or version vector");
        }

        recordsOffset = reader.Position;
        return (leader, clock, versions, records);
    }

    /// <summary>Reads the record at <paramref name="offset"/> and moves past it.</summary>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.StoreFailure"/>: truncated.</exception>
    public static (WalRecordKind Kind, HlcTimestamp Timestamp, ReadOnlyMemory<byte> Body) ReadRecord(ReadOnlyMemory<byte> data, ref int offset)
    {
        var reader = new FrameBodyReader(data.Span[offset..]);
        var kind = (WalRecordKind)reader.ReadByte();
        ulong time = reader.ReadUInt64();
        ulong replica = reader.ReadUInt64();
        int length = reader.ReadVarintInt32(int.MaxValue);
        int bodyStart = offset + reader.Position;
        if (reader.Failed || length > data.Length - bodyStart)
        {
            throw Malformed($"record at byte {offset} is truncated");
        }

        offset = bodyStart + length;
        return (kind, new HlcTimestamp(time, replica), data.Slice(bodyStart, length));
    }

    private static SyncProtocolException Malformed(string detail) =>
        new(SyncProtocolErrorCode.StoreFailure, $"the snapshot is not a database snapshot this build reads: {detail}");
}
