using CortexEdge.Core;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Replication;

namespace CortexEdge.Sync.Tests.Replication;

/// <summary>
/// An in-memory replica for simulations: a log of verbatim records from <see cref="FirstLsn"/>, a
/// durable bound (a crash loses what is past it, like an unflushed tail), the key/value state, and a
/// staged snapshot that survives crashes (it is "on disk").
/// </summary>
internal sealed class MemoryReplicaStore : IReplicaStore
{
    private readonly List<byte[]> _records = [];
    private readonly List<uint> _crcs = [];
    private byte[] _staged = [];
    private long _anchorLsn;
    private uint _anchorCrc;
    private SortedDictionary<byte, long>? _baseState; // state installed by the last snapshot

    public SortedDictionary<byte, long> State { get; private set; } = new();

    public long FirstLsn { get; private set; } = 1;

    public ulong Epoch { get; private set; } = 1;

    public long LastLsn => FirstLsn - 1 + _records.Count;

    public long DurableLsn { get; private set; }

    public long AppliedCount { get; private set; }

    public int InstalledSnapshotCount { get; private set; }

    public IReadOnlyList<byte[]> Records => _records;

    public ulong StagedSnapshotId { get; private set; }

    public long StagedSnapshotBytes => _staged.Length;

    public uint StagedSnapshotChecksum => DatabaseSnapshot.ComputeChecksum(_staged, 0);

    public bool TryGetCrc(long lsn, out uint crc)
    {
        crc = 0;
        if (lsn == 0)
        {
            return true;
        }

        if (lsn == _anchorLsn && lsn == FirstLsn - 1)
        {
            crc = _anchorCrc;
            return true;
        }

        if (lsn < FirstLsn || lsn > LastLsn)
        {
            return false;
        }

        crc = _crcs[(int)(lsn - FirstLsn)];
        return true;
    }

    public void Append(ReadOnlySpan<byte> encodedRecord)
    {
        if (!WriteAheadLog.TryDecodeRecord(encodedRecord, LastLsn + 1, out WalRecordInfo record, out string problem) || record.EncodedLength != encodedRecord.Length)
        {
            throw new EdgeException(EdgeErrorCode.ReplicationApplyRejected, $"memory replica refuses record: {problem}");
        }

        _records.Add(encodedRecord.ToArray());
        _crcs.Add(record.Crc);
        MemoryKeyValueState.Apply(State, encodedRecord);
        AppliedCount++;
    }

    public void AdvanceEpoch(ulong epoch) => Epoch = Math.Max(Epoch, epoch);

    /// <summary>Flush: everything appended becomes durable.</summary>
    public void Flush() => DurableLsn = LastLsn;

    /// <summary>A crash: the undurable tail is lost; the state is rebuilt from what remains.</summary>
    public void Crash()
    {
        int keep = (int)Math.Max(0, DurableLsn - (FirstLsn - 1));
        _records.RemoveRange(keep, _records.Count - keep);
        _crcs.RemoveRange(keep, _crcs.Count - keep);
        State = _baseState is null ? new SortedDictionary<byte, long>() : new SortedDictionary<byte, long>(_baseState);
        foreach (byte[] record in _records)
        {
            MemoryKeyValueState.Apply(State, record);
        }
    }

    public bool TryStageSnapshotChunk(ulong snapshotId, long offset, ReadOnlySpan<byte> data)
    {
        if (snapshotId != StagedSnapshotId)
        {
            if (offset != 0)
            {
                return false;
            }

            StagedSnapshotId = snapshotId;
            _staged = [];
        }

        if (offset != _staged.Length)
        {
            return false;
        }

        _staged = [.. _staged, .. data];
        return true;
    }

    public void DiscardStagedSnapshot()
    {
        StagedSnapshotId = 0;
        _staged = [];
    }

    public void InstallStagedSnapshot(long snapshotLsn, uint anchorCrc, ulong epoch)
    {
        _baseState = MemoryKeyValueState.Deserialize(_staged);
        State = new SortedDictionary<byte, long>(_baseState);
        _records.Clear();
        _crcs.Clear();
        FirstLsn = snapshotLsn + 1;
        _anchorLsn = snapshotLsn;
        _anchorCrc = anchorCrc;
        DurableLsn = snapshotLsn; // installed atomically and durably
        Epoch = Math.Max(Epoch, epoch);
        DiscardStagedSnapshot();
        InstalledSnapshotCount++;
    }

    /// <summary>Test hook: replaces the record at <paramref name="lsn"/> (forged history).</summary>
    public void ForgeRecord(long lsn, byte[] encoded, uint crc)
    {
        _records[(int)(lsn - FirstLsn)] = encoded;
        _crcs[(int)(lsn - FirstLsn)] = crc;
    }
}
