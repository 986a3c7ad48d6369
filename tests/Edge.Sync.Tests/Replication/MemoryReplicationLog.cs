using System.Buffers;
using System.Buffers.Binary;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Replication;

namespace CortexEdge.Sync.Tests.Replication;

/// <summary>
/// An in-memory leader log for simulations: real encoded WAL records (<see cref="WriteAheadLog.EncodeRecord"/>),
/// a durable bound, pruning below the replicas' holds, and snapshots of a tiny key/value state.
/// Every record ever written is kept in <see cref="AllRecords"/> so tests can check prefixes after pruning.
/// </summary>
internal sealed class MemoryReplicationLog : IReplicationSource
{
    private readonly Dictionary<string, long> _holds = new(StringComparer.Ordinal);
    private ulong _nextSnapshotId = 1;
    private MemorySnapshot? _snapshot;
    private int _snapshotDelayTicks;

    public List<byte[]> AllRecords { get; } = [];

    public List<uint> Crcs { get; } = [];

    public ulong Epoch { get; set; } = 1;

    public long FirstLsn { get; private set; } = 1;

    public long LastLsn => AllRecords.Count;

    public long DurableLsn { get; set; }

    public long ShippableLsn => Math.Min(DurableLsn, LastLsn);

    public int SnapshotDelayTicks { get; set; }

    public int SnapshotCount { get; private set; }

    public string? LastHolder { get; private set; }

    public long Append(byte key, long value)
    {
        Span<byte> payload = stackalloc byte[9];
        payload[0] = key;
        BinaryPrimitives.WriteInt64LittleEndian(payload[1..], value);
        long lsn = LastLsn + 1;
        byte[] encoded = new byte[WriteAheadLog.EncodedRecordLength(payload.Length)];
        uint crc = WriteAheadLog.EncodeRecord(encoded, lsn, WalRecordKind.Document, payload);
        AllRecords.Add(encoded);
        Crcs.Add(crc);
        return lsn;
    }

    /// <summary>Drops records below every hold and below <paramref name="checkpointLsn"/> + 1 (like segment trimming).</summary>
    public void Prune(long checkpointLsn)
    {
        long keepFrom = Math.Min(checkpointLsn + 1, LastLsn + 1);
        foreach (long hold in _holds.Values)
        {
            keepFrom = Math.Min(keepFrom, hold);
        }

        FirstLsn = Math.Max(FirstLsn, keepFrom);
    }

    public bool TryGetCrc(long lsn, out uint crc)
    {
        crc = 0;
        if (lsn == 0)
        {
            return true;
        }

        if (lsn < FirstLsn || lsn > LastLsn)
        {
            return false;
        }

        crc = Crcs[(int)lsn - 1];
        return true;
    }

    public int ReadRecords(long fromLsn, int recordCountMax, int bytesMax, IBufferWriter<byte> destination)
    {
        if (fromLsn < FirstLsn)
        {
            return 0;
        }

        int count = 0;
        int bytes = 0;
        for (long lsn = fromLsn; lsn <= ShippableLsn && count < recordCountMax && bytes < bytesMax; lsn++)
        {
            byte[] record = AllRecords[(int)lsn - 1];
            destination.Write(record);
            bytes += record.Length;
            count++;
        }

        return count;
    }

    public bool TryGetSnapshot(long minimumLsn, out IReplicationSnapshot? snapshot)
    {
        if (_snapshot is { } ready && ready.Lsn >= minimumLsn && ready.Lsn >= FirstLsn - 1)
        {
            snapshot = ready;
            return true;
        }

        if (_snapshotDelayTicks++ < SnapshotDelayTicks)
        {
            snapshot = null;
            return false;
        }

        _snapshotDelayTicks = 0;
        long lsn = ShippableLsn;
        byte[] data = MemoryKeyValueState.Serialize(MemoryKeyValueState.Replay(AllRecords, lsn));
        _snapshot = new MemorySnapshot(_nextSnapshotId++, lsn, lsn == 0 ? 0 : Crcs[(int)lsn - 1], data);
        SnapshotCount++;
        snapshot = _snapshot;
        return true;
    }

    public void SetRetentionHold(string replicaName, long keepFromLsn) => _holds[replicaName] = keepFromLsn;

    public void ReleaseRetentionHold(string replicaName) => _holds.Remove(replicaName);

    public IReadOnlyDictionary<string, long> Holds => _holds;

    private sealed class MemorySnapshot(ulong id, long lsn, uint anchorCrc, byte[] data) : IReplicationSnapshot
    {
        public ulong Id { get; } = id;

        public long Lsn { get; } = lsn;

        public uint AnchorCrc { get; } = anchorCrc;

        public long LengthBytes => data.Length;

        public uint Checksum { get; } = DatabaseSnapshot.ComputeChecksum(data, 0);

        public int Read(long offset, Span<byte> destination)
        {
            int length = (int)Math.Min(destination.Length, data.Length - offset);
            data.AsSpan((int)offset, length).CopyTo(destination);
            return length;
        }
    }
}

/// <summary>The simulations' state: key -> last value, built by applying record payloads in LSN order.</summary>
internal static class MemoryKeyValueState
{
    public static SortedDictionary<byte, long> Replay(IReadOnlyList<byte[]> records, long throughLsn)
    {
        var state = new SortedDictionary<byte, long>();
        for (int i = 0; i < throughLsn; i++)
        {
            Apply(state, records[i]);
        }

        return state;
    }

    public static void Apply(SortedDictionary<byte, long> state, ReadOnlySpan<byte> encodedRecord)
    {
        ReadOnlySpan<byte> payload = encodedRecord.Slice(WalRecordInfo.PayloadOffset, 9);
        state[payload[0]] = BinaryPrimitives.ReadInt64LittleEndian(payload[1..]);
    }

    public static byte[] Serialize(SortedDictionary<byte, long> state)
    {
        byte[] data = new byte[state.Count * 9];
        int offset = 0;
        foreach ((byte key, long value) in state)
        {
            data[offset] = key;
            BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(offset + 1), value);
            offset += 9;
        }

        return data;
    }

    public static SortedDictionary<byte, long> Deserialize(ReadOnlySpan<byte> data)
    {
        if (data.Length % 9 != 0)
        {
            throw new InvalidDataException($"snapshot of {data.Length} bytes is not a whole number of 9-byte entries");
        }

        var state = new SortedDictionary<byte, long>();
        for (int offset = 0; offset < data.Length; offset += 9)
        {
            state[data[offset]] = BinaryPrimitives.ReadInt64LittleEndian(data[(offset + 1)..]);
        }

        return state;
    }
}
