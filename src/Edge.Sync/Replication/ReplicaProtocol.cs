using CortexEdge.Core;
using CortexEdge.Core.Wal;

namespace CortexEdge.Sync.Replication;

/// <summary>
/// The replica side of WAL replication as a pure state machine: fed leader frames and the time, it
/// verifies and applies them to an <see cref="IReplicaStore"/> and produces status frames.
/// </summary>
/// <remarks>
/// <para>Fail-stop: a batch whose previous (LSN, CRC) disagrees with the replica's log, a record at an
/// LSN the replica holds with different bytes, a record that fails its own check, or a frame that
/// does not decode halts the replica (<see cref="Divergence"/>, naming both positions). It never
/// rewrites, skips or heals; only an operator resync does.</para>
/// <para>Idempotent and ordered: records at or below the replica's end are recognised by LSN and
/// ignored (after checking they are the same record); a batch starting past the end is not applied
/// (the status that follows makes the leader resend). Frames from an older epoch are refused.</para>
/// <para>Not thread-safe: one caller at a time.</para>
/// </remarks>
public sealed class ReplicaProtocol
{
    private readonly IReplicaStore _store;
    private readonly ReplicationOptions _options;
    private long _leaderLsn;
    private long _behindSinceMs = -1;
    private long _lastStatusMs = long.MinValue / 2;
    private bool _heard;
    private long _snapshotTotalBytes;
    private int _snapshotFailures;
    private long _refusedEpoch;
    private long _duplicates;
    private long _gaps;

    /// <summary>Creates the replica protocol for <paramref name="replicaName"/> over <paramref name="store"/>.</summary>
    public ReplicaProtocol(IReplicaStore store, string replicaName, ReplicationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(replicaName);
        if (System.Text.Encoding.UTF8.GetByteCount(replicaName) > ReplicationFrameCodec.ReplicaNameBytesMax)
        {
            throw new ArgumentException($"replica name is longer than {ReplicationFrameCodec.ReplicaNameBytesMax} UTF-8 bytes", nameof(replicaName));
        }

        _store = store;
        _options = options ?? new ReplicationOptions();
        _options.Validate();
        ReplicaName = replicaName;
        _leaderLsn = store.LastLsn;
    }

    /// <summary>This replica's name.</summary>
    public string ReplicaName { get; }

    /// <summary>The divergence that halted the replica (null while it runs).</summary>
    public ReplicationException? Divergence { get; private set; }

    /// <summary>Handles one frame from the leader; appends the status to send back to <paramref name="output"/>.</summary>
    public void Receive(ReadOnlySpan<byte> encoded, long nowMs, List<byte[]> output)
    {
        if (Divergence is not null)
        {
            return;
        }

        if (!ReplicationFrameCodec.TryDecode(encoded, out ReplicationFrame? frame, out ReplicationException? error))
        {
            long last = _store.LastLsn;
            _store.TryGetCrc(last, out uint crc);
            Halt(new ReplicationDivergenceException(last, crc, -1, 0, $"a frame from the leader could not be verified ({error!.Message})"));
            output.Add(StatusFrame());
            return;
        }

        if (frame is ReplicaStatusFrame)
        {
            return; // another replica's status on a shared topic: not for us
        }

        if (frame!.Epoch < _store.Epoch)
        {
            _refusedEpoch++;
            return; // a deposed leader: refuse its stream, say nothing to it
        }

        if (frame.Epoch > _store.Epoch)
        {
            _store.AdvanceEpoch(frame.Epoch);
        }

        _heard = true;
        switch (frame)
        {
            case WalBatchFrame batch:
                ApplyBatch(batch, nowMs);
                break;
            case SnapshotChunkFrame chunk:
                ApplyChunk(chunk, nowMs);
                break;
        }

        output.Add(StatusFrame());
        _lastStatusMs = nowMs;
    }

    /// <summary>Advances time: reports the replica's position every <see cref="ReplicationOptions.StatusIntervalMs"/>.</summary>
    public void Tick(long nowMs, List<byte[]> output)
    {
        if (nowMs - _lastStatusMs >= _options.StatusIntervalMs)
        {
            output.Add(StatusFrame());
            _lastStatusMs = nowMs;
        }
    }

    /// <summary>The replica's status at <paramref name="nowMs"/>.</summary>
    public ReplicaStatus GetStatus(long nowMs)
    {
        long applied = _store.LastLsn;
        long lag = Math.Max(0, _leaderLsn - applied);
        ReplicaState state = Divergence is not null ? ReplicaState.Halted
            : _store.StagedSnapshotId != 0 ? ReplicaState.Snapshot
            : !_heard ? ReplicaState.Connecting
            : lag > _options.BatchRecordCountMax ? ReplicaState.CatchingUp
            : ReplicaState.Streaming;
        double lagSeconds = lag == 0 || _behindSinceMs < 0 ? 0 : Math.Max(0, nowMs - _behindSinceMs) / 1000.0;
        return new ReplicaStatus(state, Divergence?.Message, _store.Epoch, applied, _leaderLsn, lag, lagSeconds,
            _store.StagedSnapshotBytes, _snapshotTotalBytes, _refusedEpoch, _duplicates, _gaps);
    }

    private byte[] StatusFrame()
    {
        long last = _store.LastLsn;
        _store.TryGetCrc(last, out uint crc);
        return ReplicationFrameCodec.Encode(new ReplicaStatusFrame(_store.Epoch, ReplicaName, last, crc, Math.Min(_store.DurableLsn, last),
            _store.StagedSnapshotId, _store.StagedSnapshotBytes, Divergence is not null));
    }

    private void Halt(ReplicationException divergence) => Divergence ??= divergence;

    private void NoteLeader(long leaderLsn, long nowMs)
    {
        _leaderLsn = Math.Max(_leaderLsn, leaderLsn);
        if (_store.LastLsn >= _leaderLsn)
        {
            _behindSinceMs = -1;
        }
        else if (_behindSinceMs < 0)
        {
            _behindSinceMs = nowMs;
        }
    }

    private void ApplyBatch(WalBatchFrame batch, long nowMs)
    {
        long last = _store.LastLsn;
        if (batch.PrevLsn > last)
        {
            _gaps++; // arrived early (reordered or an earlier batch lost): the status we send makes the leader resend
            NoteLeader(batch.LeaderLastLsn, nowMs);
            return;
        }

        // The chain: the leader's record before this batch must be the replica's record at that LSN.
        if (_store.TryGetCrc(batch.PrevLsn, out uint ownPrevCrc))
        {
            if (ownPrevCrc != batch.PrevCrc)
            {
                Halt(new ReplicationDivergenceException(batch.PrevLsn, ownPrevCrc, batch.PrevLsn, batch.PrevCrc,
                    $"the record before the leader's batch differs from the replica's record at LSN {batch.PrevLsn}"));
                return;
            }
        }
        else if (batch.PrevLsn == last)
        {
            Halt(new ReplicationDivergenceException(last, 0, batch.PrevLsn, batch.PrevCrc,
                $"the replica cannot verify its own last record at LSN {last} against the leader's batch"));
            return;
        }

        ReadOnlySpan<byte> records = batch.Records.Span;
        long expected = batch.PrevLsn + 1;
        int offset = 0;
        for (int i = 0; i < batch.RecordCount; i++)
        {
            if (!WriteAheadLog.TryDecodeRecord(records[offset..], expected, out WalRecordInfo record, out string problem))
            {
                _store.TryGetCrc(_store.LastLsn, out uint lastCrc);
                Halt(new ReplicationDivergenceException(_store.LastLsn, lastCrc, expected, 0,
                    $"record {i + 1} of {batch.RecordCount} in the leader's batch after LSN {batch.PrevLsn} cannot be verified: {problem}"));
                return;
            }

            ReadOnlySpan<byte> encoded = records.Slice(offset, record.EncodedLength);
            offset += record.EncodedLength;
            if (record.Lsn <= _store.LastLsn)
            {
                if (_store.TryGetCrc(record.Lsn, out uint own) && own != record.Crc)
                {
                    Halt(new ReplicationDivergenceException(record.Lsn, own, record.Lsn, record.Crc,
                        $"the leader sent a different record at LSN {record.Lsn}, which the replica already holds"));
                    return;
                }

                _duplicates++;
            }
            else
            {
                try
                {
                    _store.Append(encoded);
                }
                catch (EdgeException exception) when (exception.Code == EdgeErrorCode.ReplicationApplyRejected)
                {
                    _store.TryGetCrc(_store.LastLsn, out uint lastCrc);
                    Halt(new ReplicationDivergenceException(_store.LastLsn, lastCrc, record.Lsn, record.Crc, $"the replica's log refused the record: {exception.Message}"));
                    return;
                }
            }

            expected++;
        }

        if (offset != records.Length)
        {
            _store.TryGetCrc(_store.LastLsn, out uint lastCrc);
            Halt(new ReplicationDivergenceException(_store.LastLsn, lastCrc, expected - 1, 0,
                $"the leader's batch after LSN {batch.PrevLsn} has {records.Length - offset} bytes after its {batch.RecordCount} records"));
            return;
        }

        if (_store.StagedSnapshotId != 0 && (_store.LastLsn > last || _store.LastLsn >= batch.LeaderLastLsn))
        {
            _store.DiscardStagedSnapshot(); // the stream chains again: a half-received snapshot is obsolete
        }

        NoteLeader(batch.LeaderLastLsn, nowMs);
    }

    private void ApplyChunk(SnapshotChunkFrame chunk, long nowMs)
    {
        NoteLeader(chunk.LeaderLastLsn, nowMs);
        if (chunk.SnapshotLsn <= _store.LastLsn)
        {
            return; // brings nothing the replica does not hold (the leader chains from its anchor instead)
        }

        if (_store.StagedSnapshotId != chunk.SnapshotId && chunk.Offset != 0)
        {
            return; // a new snapshot starts at 0; our status says so
        }

        _snapshotTotalBytes = chunk.TotalBytes;
        if (!_store.TryStageSnapshotChunk(chunk.SnapshotId, chunk.Offset, chunk.Data.Span))
        {
            return; // not the next chunk (reordered or re-delivered)
        }

        if (_store.StagedSnapshotBytes < chunk.TotalBytes)
        {
            return;
        }

        if (_store.StagedSnapshotChecksum != chunk.Checksum)
        {
            _store.DiscardStagedSnapshot();
            _snapshotFailures++;
            if (_snapshotFailures >= _options.SnapshotAttemptCountMax)
            {
                _store.TryGetCrc(_store.LastLsn, out uint lastCrc);
                Halt(new ReplicationException(ReplicationErrorCode.SnapshotRejected,
                    $"snapshot {chunk.SnapshotId:x16} at LSN {chunk.SnapshotLsn} failed its checksum {_snapshotFailures} times (replica at LSN {_store.LastLsn} CRC 0x{lastCrc:x8}); halted"));
            }

            return;
        }

        _store.InstallStagedSnapshot(chunk.SnapshotLsn, chunk.AnchorCrc, chunk.Epoch);
        _snapshotFailures = 0;
        NoteLeader(chunk.LeaderLastLsn, nowMs);
    }
}
