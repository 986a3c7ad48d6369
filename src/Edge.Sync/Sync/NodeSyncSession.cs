using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// The edge node's side of the sync protocol as a state machine with no transport and no clock
/// of its own: feed it frames (<see cref="Receive"/>), time (<see cref="Tick"/>) and requests
/// (<see cref="RequestSync"/>, <see cref="NotifyLocalWrite"/>); it returns frames to send and
/// events. Call <see cref="Tick"/> again at <see cref="NextWakeAt"/>.
/// <para>
/// Upload: own ops in origin-sequence order from the upload cursor, only ops durable locally,
/// a window of <see cref="SyncSessionOptions.UploadWindowFrames"/> batches; the cursor moves
/// only on the leader's acknowledgement (which means durable there). A timeout, a resend
/// request or a refusal rewinds to the first unacknowledged op, with backoff.
/// Download: pulls from the last applied leader LSN; batches apply only if they continue the
/// cursor; snapshots arrive in chunks, persisted one by one, and resume from the next missing
/// chunk after any interruption.
/// </para>
/// Not thread-safe: one host loop drives it.
/// </summary>
public sealed class NodeSyncSession
{
    private readonly ISyncNodeStore _store;
    private readonly SyncSessionOptions _options;
    private readonly string _fleet;
    private readonly string _node;
    private readonly int _uploadBodyBudget;
    private readonly List<SyncOp> _scratch = [];
    private readonly List<KeyValuePair<ulong, long>> _vector = [];
    private readonly Queue<long> _inflight = new();

    private SyncScope _scope = SyncScope.All;
    private long _priorityTarget;
    private long _roundUploadTarget;
    private bool _roundActive;
    private bool _roundPulled;

    private long _sentSeq;
    private DateTimeOffset? _ackDeadline;
    private DateTimeOffset _uploadHoldUntil = DateTimeOffset.MinValue;
    private int _uploadFailures;
    private long _lastRewindFrom = -1;
    private DateTimeOffset _lastRewindAt = DateTimeOffset.MinValue;

    private bool _wantDownload;
    private bool _needFreshPull;
    private bool _pullOutstanding;
    private DateTimeOffset? _pullDeadline;
    private DateTimeOffset _downloadHoldUntil = DateTimeOffset.MinValue;
    private DateTimeOffset _lastPullAt = DateTimeOffset.MinValue;
    private int _downloadFailures;
    private bool _downloadUpToDate;
    private bool _initialDownloadComplete;
    private bool _idleReported;
    private bool _halted;

    private long _leaderHeadLsn;
    private long _leaderHeadUnixMs;
    private long _cursorUnixMs;
    private DateTimeOffset? _lastUploadAt;
    private DateTimeOffset? _lastDownloadAt;
    private SyncError? _lastError;

    /// <summary>
    /// Creates a session for the node <paramref name="nodeName"/> of <paramref name="fleet"/>,
    /// binding the name to the database on first use.
    /// </summary>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.NodeIdentityMismatch"/>: the database is bound to another node name; <see cref="SyncProtocolErrorCode.InvalidName"/>: a name is not usable in topics.</exception>
    public NodeSyncSession(ISyncNodeStore store, string fleet, string nodeName, SyncSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _options = options ?? SyncSessionOptions.Default;
        _options.Validate();
        _uploadBodyBudget = _options.Limits.FrameBytesMax - SyncFrameCodec.HeaderAndChecksumBytes(fleet, nodeName) - SyncFrameCodec.BatchPrefixBytesMax;
        store.BindNodeName(nodeName);
        _store = store;
        _fleet = fleet;
        _node = nodeName;
        _sentSeq = store.UploadCursor;
        _initialDownloadComplete = store.DownloadCursor > 0;
    }

    /// <summary>The fleet served.</summary>
    public string Fleet => _fleet;

    /// <summary>This node's name.</summary>
    public string NodeName => _node;

    /// <summary>Counters since creation.</summary>
    public NodeSyncCounters Counters { get; } = new();

    /// <summary>True once an identity error stopped the session for good.</summary>
    public bool IsHalted => _halted;

    /// <summary>
    /// True when the current round is done: for <see cref="SyncScope.All"/>, every op written before
    /// the round is acknowledged and a pull made in the round reached the leader's head; for
    /// <see cref="SyncScope.PriorityOnly"/>, every priority op pending at the start is acknowledged.
    /// </summary>
    public bool IsRoundComplete =>
        _store.UploadCursor >= (_scope == SyncScope.PriorityOnly ? _priorityTarget : _roundUploadTarget) &&
        (_scope == SyncScope.PriorityOnly || (_roundPulled && _downloadUpToDate && !_pullOutstanding));

    /// <summary>True when all own ops are acknowledged and the last pull reached the head.</summary>
    public bool IsIdle => _store.UploadCursor >= _store.LastOwnSeq && _downloadUpToDate && !_pullOutstanding;

    /// <summary>When <see cref="Tick"/> should run next (a deadline or a retry), or null when nothing waits on time.</summary>
    public DateTimeOffset? NextWakeAt
    {
        get
        {
            if (_halted)
            {
                return null;
            }

            DateTimeOffset? next = Min(_ackDeadline, _pullDeadline);
            if (_ackDeadline is null && _uploadHoldUntil != DateTimeOffset.MinValue)
            {
                next = Min(next, _uploadHoldUntil);
            }

            if (_wantDownload && !_pullOutstanding)
            {
                next = Min(next, _downloadHoldUntil == DateTimeOffset.MinValue ? null : _downloadHoldUntil);
            }

            if (_options.PollInterval is TimeSpan poll && !_wantDownload && !_pullOutstanding && _lastPullAt != DateTimeOffset.MinValue)
            {
                next = Min(next, _lastPullAt + poll);
            }

            return next;
        }
    }

    /// <summary>Starts a sync round: upload (and for <see cref="SyncScope.All"/>, download) until <see cref="IsRoundComplete"/>.</summary>
    public SyncActions RequestSync(SyncScope scope, DateTimeOffset now)
    {
        _scope = scope;
        _roundActive = true;
        _roundPulled = false;
        _roundUploadTarget = _store.LastOwnSeq;
        _priorityTarget = _store.GetBacklog(_store.UploadCursor, now).Priority.HighestSeq;
        if (scope == SyncScope.All)
        {
            _wantDownload = true;
            _needFreshPull = true; // an answer to a pull sent before the round does not complete it
            _downloadHoldUntil = DateTimeOffset.MinValue;
        }

        // A new round is new work: retry at once rather than waiting out an old backoff.
        _uploadHoldUntil = DateTimeOffset.MinValue;
        var actions = new SyncActions();
        Pump(now, actions);
        return actions;
    }

    /// <summary>Tells the session own ops were written (or became durable): it uploads them without waiting for a timer.</summary>
    public SyncActions NotifyLocalWrite(DateTimeOffset now)
    {
        _idleReported = false;
        var actions = new SyncActions();
        Pump(now, actions);
        return actions;
    }

    /// <summary>Handles deadlines and retries that fell due; call at <see cref="NextWakeAt"/>.</summary>
    public SyncActions Tick(DateTimeOffset now)
    {
        var actions = new SyncActions();
        if (_halted)
        {
            return actions;
        }

        if (_ackDeadline is DateTimeOffset ackDeadline && now >= ackDeadline)
        {
            _uploadFailures++;
            Counters.UploadRetries++;
            RewindUpload(_store.UploadCursor);
            _uploadHoldUntil = now + _options.Backoff(_uploadFailures, _store.ReplicaId);
            SetError(SyncProtocolErrorCode.Timeout, $"no acknowledgement within {_options.ResponseTimeout.TotalMilliseconds:0} ms; resending from seq {_store.UploadCursor + 1} (attempt {_uploadFailures})", now, actions);
        }

        if (_pullDeadline is DateTimeOffset pullDeadline && now >= pullDeadline)
        {
            _downloadFailures++;
            Counters.PullRetries++;
            _pullOutstanding = false;
            _pullDeadline = null;
            _wantDownload = true;
            _downloadHoldUntil = now + _options.Backoff(_downloadFailures, ~_store.ReplicaId);
            SetError(SyncProtocolErrorCode.Timeout, $"no answer to pull after LSN {_store.DownloadCursor} within {_options.ResponseTimeout.TotalMilliseconds:0} ms (attempt {_downloadFailures})", now, actions);
        }

        if (_options.PollInterval is TimeSpan poll && !_wantDownload && !_pullOutstanding && _lastPullAt != DateTimeOffset.MinValue && now >= _lastPullAt + poll)
        {
            _wantDownload = true;
        }

        Pump(now, actions);
        return actions;
    }

    /// <summary>Decodes and handles a frame from the leader; an undecodable frame is counted and reported, never thrown.</summary>
    public SyncActions ReceiveBytes(ReadOnlySpan<byte> frameBytes, DateTimeOffset now)
    {
        if (!SyncFrameCodec.TryDecode(frameBytes, _options.Limits, out SyncFrame? frame, out SyncDecodeError error))
        {
            var actions = new SyncActions();
            Counters.FramesRejected++;
            SetError(error.Code, "frame from the leader rejected: " + error.Message, now, actions);
            return actions;
        }

        return Receive(frame, now);
    }

    /// <summary>Handles a frame from the leader.</summary>
    public SyncActions Receive(SyncFrame frame, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var actions = new SyncActions();
        if (_halted)
        {
            return actions;
        }

        if (frame.Fleet != _fleet || frame.Node != _node)
        {
            Counters.FramesRejected++;
            return actions;
        }

        try
        {
            switch (frame)
            {
                case AckFrame ack:
                    OnAck(ack, now, actions);
                    break;
                case ResendRequestFrame resend:
                    OnResendRequest(resend, now);
                    break;
                case DownloadBatchFrame batch:
                    OnDownloadBatch(batch, now, actions);
                    break;
                case SnapshotChunkFrame chunk:
                    OnSnapshotChunk(chunk, now, actions);
                    break;
                case StatusFrame status:
                    OnStatus(status, now, actions);
                    break;
                case ErrorFrame error:
                    OnError(error, now, actions);
                    break;
                default:
                    Counters.FramesRejected++;
                    SetError(SyncProtocolErrorCode.UnexpectedFrame, $"a node does not accept {frame.Type} frames", now, actions);
                    break;
            }
        }
        catch (SyncProtocolException ex) when (ex.Code == SyncProtocolErrorCode.StoreFailure)
        {
            // The store refused the data (a gap, an undecodable snapshot): nothing was applied;
            // pull again after a backoff rather than stop.
            _downloadFailures++;
            _pullOutstanding = false;
            _pullDeadline = null;
            _wantDownload = true;
            _downloadHoldUntil = now + _options.Backoff(_downloadFailures, ~_store.ReplicaId);
            SetError(ex.Code, ex.Message, now, actions);
        }

        Pump(now, actions);
        return actions;
    }

    /// <summary>The status for the agent: backlog, last sync each way, lag, last error.</summary>
    public SyncStatus GetStatus(DateTimeOffset now)
    {
        long cursor = _store.DownloadCursor;
        long lagOps = Math.Max(0, _leaderHeadLsn - cursor);
        TimeSpan lag = lagOps == 0 || _leaderHeadUnixMs == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(0, _leaderHeadUnixMs - _cursorUnixMs));
        return new SyncStatus
        {
            Backlog = _store.GetBacklog(_store.UploadCursor, now),
            LastUploadAt = _lastUploadAt,
            LastDownloadAt = _lastDownloadAt,
            DownloadCursor = cursor,
            UploadCursor = _store.UploadCursor,
            LagOps = lagOps,
            Lag = lag,
            IsIdle = IsIdle,
            IsDownloadUpToDate = _downloadUpToDate,
            InitialDownloadComplete = _initialDownloadComplete,
            SnapshotInProgress = _store.PendingSnapshot is not null,
            ClockSkewRefusals = Counters.ClockSkewRefusals,
            IsHalted = _halted,
            LastError = _lastError,
        };
    }

    private void OnAck(AckFrame ack, DateTimeOffset now, SyncActions actions)
    {
        NoteLeaderHead(ack.HeadLsn, ack.LeaderUnixMilliseconds);
        if (ack.Origin != _store.ReplicaId)
        {
            Counters.FramesRejected++;
            return;
        }

        long cursor = _store.UploadCursor;
        if (ack.AckedSeq > _store.LastOwnSeq)
        {
            // The leader holds ops this database does not: it was restored from an older copy.
            SetError(SyncProtocolErrorCode.NodeIdentityMismatch, $"the leader acknowledged seq {ack.AckedSeq} but this database's last op is seq {_store.LastOwnSeq}; it was restored from an older copy and must be re-created", now, actions);
            _halted = true;
            return;
        }

        if (ack.AckedSeq <= cursor)
        {
            return;
        }

        _store.SaveUploadCursor(ack.AckedSeq);
        _lastUploadAt = now;
        _uploadFailures = 0;
        // A hold set by a refusal stays: the ack that travels with a clock-skew error must not
        // trigger an immediate resend of the refused op.
        while (_inflight.Count > 0 && _inflight.Peek() <= ack.AckedSeq)
        {
            _inflight.Dequeue();
        }

        _sentSeq = Math.Max(_sentSeq, ack.AckedSeq);
        _ackDeadline = _sentSeq > ack.AckedSeq ? now + _options.ResponseTimeout : null;
        actions.Events.Add(new SyncEvent(SyncEventKind.UploadAcknowledged, ack.AckedSeq));
    }

    private void OnResendRequest(ResendRequestFrame resend, DateTimeOffset now)
    {
        if (resend.Origin != _store.ReplicaId)
        {
            Counters.FramesRejected++;
            return;
        }

        long from = Math.Max(resend.FromSeq, _store.UploadCursor + 1);
        if (from > _sentSeq)
        {
            return; // nothing sent from there yet: the window will get there on its own
        }

        if (from == _lastRewindFrom && now - _lastRewindAt < _options.ResendInterval)
        {
            return; // every batch behind one lost batch asks for the same resend; honour it once
        }

        _lastRewindFrom = from;
        _lastRewindAt = now;
        Counters.UploadRetries++;
        RewindUpload(from - 1);
        _uploadHoldUntil = DateTimeOffset.MinValue;
    }

    private void OnDownloadBatch(DownloadBatchFrame batch, DateTimeOffset now, SyncActions actions)
    {
        NoteLeaderHead(batch.HeadLsn, batch.LeaderUnixMilliseconds);
        long cursor = _store.DownloadCursor;
        if (batch.FromLsn != cursor || _store.PendingSnapshot is not null)
        {
            Counters.FramesOutOfOrder++;
            if (batch.IsLast && _pullOutstanding && batch.FromLsn > cursor)
            {
                // The end of our pull's answer arrived but an earlier batch did not: ask again now.
                EndPull(reachedHead: false);
            }

            return;
        }

        int applied = _store.ApplyDownloaded(batch.Ops, batch.ToLsn);
        Counters.OpsDownloaded += applied;
        _cursorUnixMs = batch.LeaderUnixMilliseconds;
        _lastDownloadAt = now;
        _downloadFailures = 0;
        if (applied > 0)
        {
            actions.Events.Add(new SyncEvent(SyncEventKind.Downloaded, applied));
        }

        if (_pullOutstanding)
        {
            _pullDeadline = now + _options.ResponseTimeout; // progress: give the rest of the answer time
        }

        if (batch.IsLast || batch.ToLsn >= batch.HeadLsn)
        {
            EndPull(reachedHead: batch.ToLsn >= batch.HeadLsn, actions);
        }
    }

    private void OnSnapshotChunk(SnapshotChunkFrame chunk, DateTimeOffset now, SyncActions actions)
    {
        SnapshotTransfer? pending = _store.PendingSnapshot;
        if (chunk.Index == 0 && (pending is null || pending.SnapshotId != chunk.SnapshotId))
        {
            pending = new SnapshotTransfer(chunk.SnapshotId, chunk.SnapshotLsn, chunk.Total, chunk.TotalBytes, chunk.Checksum, 0);
            _store.BeginSnapshot(pending);
        }

        if (pending is null || pending.SnapshotId != chunk.SnapshotId || chunk.Index != pending.NextChunk ||
            chunk.Total != pending.Total || chunk.Checksum != pending.Checksum)
        {
            Counters.FramesOutOfOrder++;
            if (chunk.IsLast && _pullOutstanding)
            {
                EndPull(reachedHead: false);
            }

            return;
        }

        _store.AppendSnapshotChunk(chunk.Index, chunk.Data.Span);
        Counters.SnapshotChunksReceived++;
        _lastDownloadAt = now;
        _downloadFailures = 0;
        if (_pullOutstanding)
        {
            _pullDeadline = now + _options.ResponseTimeout;
        }

        if (chunk.Index + 1 == chunk.Total)
        {
            byte[] data = _store.ReadPendingSnapshot();
            uint checksum = Crc32C.Compute(data);
            if (data.Length != pending.TotalBytes || checksum != pending.Checksum)
            {
                _store.DiscardSnapshot();
                SetError(SyncProtocolErrorCode.SnapshotChecksumMismatch, $"snapshot {pending.SnapshotId:X16} reassembled to {data.Length} bytes with CRC32C 0x{checksum:X8}; expected {pending.TotalBytes} bytes, 0x{pending.Checksum:X8}; restarting the transfer", now, actions);
                EndPull(reachedHead: false);
                return;
            }

            _store.ImportSnapshot(data, pending.SnapshotLsn);
            Counters.SnapshotsImported++;
            _cursorUnixMs = _leaderHeadUnixMs;
            actions.Events.Add(new SyncEvent(SyncEventKind.SnapshotImported, pending.SnapshotLsn));
            EndPull(reachedHead: false);
            return;
        }

        if (chunk.IsLast)
        {
            EndPull(reachedHead: false);
        }
    }

    private void OnStatus(StatusFrame status, DateTimeOffset now, SyncActions actions)
    {
        NoteLeaderHead(status.HeadLsn, status.LeaderUnixMilliseconds);
        long cursor = _store.DownloadCursor;
        if (status.Kind == SyncStatusKind.UpToDate)
        {
            if (status.HeadLsn == cursor && _pullOutstanding)
            {
                if (_store.PendingSnapshot is not null)
                {
                    // The leader no longer offers a snapshot past our cursor (it was emptied): drop the transfer.
                    _store.DiscardSnapshot();
                }

                _cursorUnixMs = status.LeaderUnixMilliseconds;
                _lastDownloadAt = now;
                _downloadFailures = 0;
                EndPull(reachedHead: true, actions);
            }

            return;
        }

        if (status.HeadLsn > cursor)
        {
            _wantDownload = true;
            _downloadUpToDate = false;
            _idleReported = false;
        }
    }

    private void OnError(ErrorFrame error, DateTimeOffset now, SyncActions actions)
    {
        Counters.ErrorsReceived++;
        SetError(error.Code, "leader: " + error.Message, now, actions);
        switch (error.Code)
        {
            case SyncProtocolErrorCode.ClockSkew:
                Counters.ClockSkewRefusals++;
                actions.Events.Add(new SyncEvent(SyncEventKind.ClockSkewRefused, error.Detail, error.Code, error.Message));
                HoldUpload(Math.Max(error.Detail - 1, _store.UploadCursor), now);
                break;
            case SyncProtocolErrorCode.OpRejected:
            case SyncProtocolErrorCode.CollectionNotWritable:
            case SyncProtocolErrorCode.OpTooLarge:
            case SyncProtocolErrorCode.TooManyOps:
            case SyncProtocolErrorCode.FrameTooLarge:
                HoldUpload(_store.UploadCursor, now);
                break;
            case SyncProtocolErrorCode.NodeIdentityMismatch:
            case SyncProtocolErrorCode.OriginMismatch:
            case SyncProtocolErrorCode.WrongFleet:
            case SyncProtocolErrorCode.UnsupportedVersion:
            case SyncProtocolErrorCode.InvalidName:
                // No retry can fix these; an operator must. Stop sending instead of hammering the leader.
                _halted = true;
                break;
        }
    }

    private void HoldUpload(long rewindTo, DateTimeOffset now)
    {
        _uploadFailures++;
        RewindUpload(rewindTo);
        _uploadHoldUntil = now + _options.Backoff(_uploadFailures, _store.ReplicaId);
    }

    private void RewindUpload(long toSeq)
    {
        _sentSeq = Math.Min(_sentSeq, toSeq);
        _sentSeq = Math.Max(_sentSeq, _store.UploadCursor);
        _inflight.Clear();
        _ackDeadline = null;
    }

    private void EndPull(bool reachedHead, SyncActions? actions = null)
    {
        _pullOutstanding = false;
        _pullDeadline = null;
        // A "new data" notice may have overtaken the answer: up to date only at the highest head heard of.
        reachedHead &= _store.DownloadCursor >= _leaderHeadLsn && !_needFreshPull;
        if (reachedHead)
        {
            _downloadUpToDate = true;
            _wantDownload = false;
            if (!_initialDownloadComplete)
            {
                _initialDownloadComplete = true;
                actions?.Events.Add(new SyncEvent(SyncEventKind.InitialDownloadComplete, _store.DownloadCursor));
            }
        }
        else
        {
            _downloadUpToDate = false;
            _wantDownload = true;
        }
    }

    private void NoteLeaderHead(long headLsn, long leaderUnixMs)
    {
        if (headLsn >= _leaderHeadLsn)
        {
            _leaderHeadLsn = headLsn;
            _leaderHeadUnixMs = Math.Max(_leaderHeadUnixMs, leaderUnixMs);
        }
    }

    private void Pump(DateTimeOffset now, SyncActions actions)
    {
        if (_halted)
        {
            return;
        }

        PumpUpload(now, actions);
        PumpDownload(now, actions);
        if (IsIdle && !_idleReported)
        {
            _idleReported = true;
            _roundActive = false;
            actions.Events.Add(new SyncEvent(SyncEventKind.Idle, _store.DownloadCursor));
        }
        else if (!IsIdle)
        {
            _idleReported = false;
        }
    }

    private void PumpUpload(DateTimeOffset now, SyncActions actions)
    {
        if (now < _uploadHoldUntil)
        {
            return;
        }

        _uploadHoldUntil = DateTimeOffset.MinValue; // served: a passed hold must not keep waking the host

        long limit = _store.DurableOwnSeq;
        if (_scope == SyncScope.PriorityOnly && _roundActive)
        {
            limit = Math.Min(limit, Math.Max(_priorityTarget, _store.UploadCursor));
        }

        _sentSeq = Math.Max(_sentSeq, _store.UploadCursor);
        while (_inflight.Count < _options.UploadWindowFrames && _sentSeq < limit)
        {
            _scratch.Clear();
            _store.ReadOwnOps(_sentSeq, limit, _options.Limits.OpsPerBatchMax, _uploadBodyBudget, _scratch);
            int count = 0;
            int bodyBytes = 0;
            foreach (SyncOp op in _scratch)
            {
                if (op.Payload.Length > _options.Limits.OpBytesMax)
                {
                    break;
                }

                int size = SyncFrameCodec.UploadOpBytes(op);
                if (count > 0 && bodyBytes + size > _uploadBodyBudget)
                {
                    break;
                }

                bodyBytes += size;
                count++;
            }

            if (count == 0)
            {
                // Nothing fetched: the store holds the next op back (the manifest's schema is newer
                // than this build's), wait for a manifest change. Else the next op alone is too large.
                long seq = _sentSeq + 1;
                if (_scratch.Count == 0)
                {
                    SetError(SyncProtocolErrorCode.HeldBack, $"own op seq {seq} is held back: its collection's schema version is newer than this build understands", now, actions);
                }
                else
                {
                    SetError(SyncProtocolErrorCode.OpTooLarge, $"own op seq {seq} is larger than OpBytesMax {_options.Limits.OpBytesMax}; upload stops there until the limit is raised", now, actions);
                }

                _uploadHoldUntil = now + _options.RetryDelayMax;
                return;
            }

            var ops = _scratch.GetRange(0, count).ToArray();
            actions.Frames.Add(new UploadBatchFrame
            {
                Fleet = _fleet, Node = _node, Sender = _store.ReplicaId, Origin = _store.ReplicaId, FirstSeq = _sentSeq + 1, Ops = ops,
            });
            _sentSeq += count;
            _inflight.Enqueue(_sentSeq);
            Counters.UploadFramesSent++;
            Counters.UploadOpsSent += count;
            _ackDeadline ??= now + _options.ResponseTimeout;
        }
    }

    private void PumpDownload(DateTimeOffset now, SyncActions actions)
    {
        if (!_wantDownload || _pullOutstanding || now < _downloadHoldUntil || (_scope == SyncScope.PriorityOnly && _roundActive))
        {
            return;
        }

        _downloadHoldUntil = DateTimeOffset.MinValue;

        _vector.Clear();
        _store.GetVersionVector(_vector);
        if (_vector.Count > _options.Limits.VersionVectorEntriesMax)
        {
            // Only the node's own entry matters most (it spares downloading its own ops back).
            _vector.RemoveAll(e => e.Key != _store.ReplicaId);
        }

        SnapshotTransfer? pending = _store.PendingSnapshot;
        actions.Frames.Add(new PullFrame
        {
            Fleet = _fleet, Node = _node, Sender = _store.ReplicaId, AfterLsn = _store.DownloadCursor,
            UploadDrained = _store.UploadCursor >= _store.LastOwnSeq,
            SnapshotId = pending?.SnapshotId ?? 0, SnapshotNextChunk = pending?.NextChunk ?? 0, VersionVector = _vector.ToArray(),
        });
        Counters.PullsSent++;
        _needFreshPull = false;
        _pullOutstanding = true;
        _roundPulled |= _roundActive || _scope == SyncScope.All;
        _lastPullAt = now;
        _pullDeadline = now + _options.ResponseTimeout;
    }

    private void SetError(SyncProtocolErrorCode code, string message, DateTimeOffset now, SyncActions actions)
    {
        _lastError = new SyncError(code, message, now);
        actions.Events.Add(new SyncEvent(SyncEventKind.Error, 0, code, message, _node));
    }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : (a.Value <= b.Value ? a : b);
}
