using System.Collections.Concurrent;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// The leader's side of the sync protocol as a state machine with no transport: feed it frames
/// from nodes (<see cref="ReceiveBytes"/> / <see cref="Receive"/>) and time (<see cref="Tick"/>,
/// after the store's log became more durable and periodically); it returns frames addressed to
/// nodes (by <see cref="SyncFrame.Node"/>) and events.
/// <para>
/// Upload: each (origin, seq) is applied exactly once, in sequence: a duplicate is acknowledged
/// and not re-applied; a batch past the next expected sequence is not applied and a resend is
/// requested; an op whose HLC is more than <see cref="SyncSessionOptions.MaxClockSkew"/> ahead
/// is refused with a clock-skew error. Acknowledgements report only what the store made durable.
/// Download: deltas after the node's LSN up to the durable head, or a snapshot (chunked,
/// resumable) when the node is new, behind the log's start or behind the tombstone purge.
/// Malformed frames get an error reply and a counter; nothing a node sends stops the leader.
/// </para>
/// Not thread-safe: one host loop drives it.
/// </summary>
public sealed class LeaderSyncSession
{
    private readonly ISyncLeaderStore _store;
    private readonly SyncSessionOptions _options;
    private readonly string _fleet;
    private readonly Dictionary<string, NodeState> _nodes = new(StringComparer.Ordinal);
    private readonly List<SyncOp> _scratch = [];
    private readonly Dictionary<ulong, long> _pullVector = [];
    private readonly ConcurrentDictionary<string, NodeRefusalCounters> _refusals = new(StringComparer.Ordinal);
    private long _refusalTotal;
    private CachedSnapshot? _snapshot;
    private DateTimeOffset _lastPurgeAt;

    /// <summary>Creates the leader session of <paramref name="fleet"/>.</summary>
    /// <param name="store">The leader's database.</param>
    /// <param name="fleet">The fleet served; frames of other fleets are refused.</param>
    /// <param name="now">The current time (the tombstone horizon of nodes not yet heard from counts from it).</param>
    /// <param name="options">Timing and limits.</param>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.InvalidName"/>: the fleet name is not usable in topics.</exception>
    public LeaderSyncSession(ISyncLeaderStore store, string fleet, DateTimeOffset now, SyncSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!SyncFrameCodec.IsValidName(fleet))
        {
            SyncProtocolException.Throw(SyncProtocolErrorCode.InvalidName, $"fleet '{fleet}' must be 1-{SyncFrameCodec.NameBytesMax} UTF-8 bytes without '/', '+', '#' or control characters.");
        }

        _options = options ?? SyncSessionOptions.Default;
        _options.Validate();
        _store = store;
        _fleet = fleet;
        _lastPurgeAt = now;
        foreach (string node in _options.FleetMembers.Concat(store.BoundNodes))
        {
            // After a restart the leader does not know who was waiting for news: tell every known
            // node at the first tick (a node that is up to date just gets "up to date" back).
            _nodes[node] = new NodeState { LastSeenAt = now, WaitingForNews = true, NotifiedHead = -1 };
        }
    }

    /// <summary>Counters since creation.</summary>
    public LeaderSyncCounters Counters { get; } = new();

    /// <summary>The fleet served.</summary>
    public string Fleet => _fleet;

    /// <summary>Refusals counted over every node (grows with each one; a cheap "did anything change" for publishers). Thread-safe.</summary>
    public long RefusalTotal => Interlocked.Read(ref _refusalTotal);

    /// <summary>
    /// Frames and ops refused per node (the node the topic names), by reason: spoofed (a frame
    /// naming another node or carrying another origin's ops), identity mismatch (the node name is
    /// bound to another replica) and collection not writable (the manifest). Thread-safe snapshot;
    /// only nodes with at least one refusal appear.
    /// </summary>
    public IReadOnlyDictionary<string, NodeRefusalCounts> GetRefusals() =>
        _refusals.ToDictionary(pair => pair.Key, pair => pair.Value.Snapshot(), StringComparer.Ordinal);

    /// <summary>
    /// Decodes and handles a frame that arrived on a node's topic. A frame that does not decode is
    /// counted and answered with an error frame to <paramref name="topicNode"/>; never throws for bad input.
    /// </summary>
    public SyncActions ReceiveBytes(ReadOnlySpan<byte> frameBytes, string topicNode, DateTimeOffset now)
    {
        if (!SyncFrameCodec.TryDecode(frameBytes, _options.Limits, out SyncFrame? frame, out SyncDecodeError error))
        {
            Counters.FramesReceived++;
            Counters.MalformedFrames++;
            var actions = new SyncActions();
            ReplyError(topicNode, error.Code, 0, "frame rejected: " + error.Message, actions);
            return actions;
        }

        if (frame.Node != topicNode)
        {
            Counters.FramesReceived++;
            Counters.FramesRefused++;
            Interlocked.Increment(ref RefusalsOf(topicNode).Spoofed);
            var actions = new SyncActions();
            ReplyError(topicNode, SyncProtocolErrorCode.NodeIdentityMismatch, 0, $"frame names node '{frame.Node}' but arrived on the topic of '{topicNode}'", actions);
            return actions;
        }

        return Receive(frame, now);
    }

    /// <summary>Handles a decoded frame from a node.</summary>
    public SyncActions Receive(SyncFrame frame, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(frame);
        Counters.FramesReceived++;
        var actions = new SyncActions();
        if (frame.Fleet != _fleet)
        {
            Counters.FramesRefused++;
            ReplyError(frame.Node, SyncProtocolErrorCode.WrongFleet, 0, $"this leader serves fleet '{_fleet}', not '{frame.Fleet}'", actions);
            return actions;
        }

        if (frame.Type is not (SyncFrameType.UploadBatch or SyncFrameType.Pull))
        {
            Counters.FramesRefused++;
            if (frame.Type != SyncFrameType.Error)
            {
                ReplyError(frame.Node, SyncProtocolErrorCode.UnexpectedFrame, 0, $"a leader does not accept {frame.Type} frames", actions);
            }

            return actions;
        }

        if (!_store.TryBindNode(frame.Node, frame.Sender, out ulong bound))
        {
            Counters.FramesRefused++;
            Interlocked.Increment(ref RefusalsOf(frame.Node).IdentityMismatch);
            ReplyError(frame.Node, SyncProtocolErrorCode.NodeIdentityMismatch, 0, $"node name '{frame.Node}' is bound to replica {bound:X16}, not {frame.Sender:X16}", actions);
            return actions;
        }

        if (!_nodes.TryGetValue(frame.Node, out NodeState? state))
        {
            state = new NodeState();
            _nodes[frame.Node] = state;
        }

        state.LastSeenAt = now;
        state.Replica = frame.Sender;
        try
        {
            if (frame is UploadBatchFrame upload)
            {
                OnUpload(upload, state, now, actions);
            }
            else
            {
                OnPull((PullFrame)frame, state, now, actions);
            }
        }
        catch (SyncProtocolException ex) when (ex.Code is SyncProtocolErrorCode.StoreFailure)
        {
            ReplyError(frame.Node, ex.Code, 0, ex.Message, actions);
        }

        EmitAcks(now, actions);
        return actions;
    }

    /// <summary>
    /// Sends acknowledgements the store's durability now allows, "new data" notices to nodes that
    /// were up to date, and purges tombstones when every node is past them. Call after the log
    /// became more durable and periodically.
    /// </summary>
    public SyncActions Tick(DateTimeOffset now)
    {
        var actions = new SyncActions();
        EmitAcks(now, actions);
        long durable = _store.DurableLsn;
        foreach ((string node, NodeState state) in _nodes)
        {
            if (state.WaitingForNews && durable > state.NotifiedHead)
            {
                state.WaitingForNews = false;
                state.NotifiedHead = durable;
                actions.Frames.Add(new StatusFrame { Fleet = _fleet, Node = node, Sender = _store.ReplicaId, Kind = SyncStatusKind.NewData, HeadLsn = durable, LeaderUnixMilliseconds = now.ToUnixTimeMilliseconds() });
            }
        }

        if (now - _lastPurgeAt >= _options.PurgeInterval)
        {
            _lastPurgeAt = now;
            long horizon = durable;
            foreach (NodeState state in _nodes.Values)
            {
                if (now - state.LastSeenAt < _options.TombstoneHorizon)
                {
                    horizon = Math.Min(horizon, state.DrainedLsn);
                }
            }

            if (horizon > _store.PurgedLsn)
            {
                _store.PurgeTombstones(horizon);
                Counters.Purges++;
            }
        }

        return actions;
    }

    private void OnUpload(UploadBatchFrame upload, NodeState state, DateTimeOffset now, SyncActions actions)
    {
        if (upload.Origin != upload.Sender)
        {
            Counters.FramesRefused++;
            Interlocked.Increment(ref RefusalsOf(upload.Node).Spoofed);
            ReplyError(upload.Node, SyncProtocolErrorCode.OriginMismatch, upload.FirstSeq, $"a node uploads only its own ops: batch origin {upload.Origin:X16} is not the sender {upload.Sender:X16}", actions);
            return;
        }

        if (upload.Ops.Count == 0)
        {
            state.ForceAck = true;
            return;
        }

        long applied = _store.GetAppliedSeq(upload.Origin);
        if (upload.LastSeq <= applied)
        {
            Counters.DuplicateOps += upload.Ops.Count;
            state.ForceAck = true;
            return;
        }

        if (upload.FirstSeq > applied + 1)
        {
            Counters.Gaps++;
            if (state.LastResendFrom != applied + 1 || now - state.LastResendAt >= _options.ResendInterval)
            {
                state.LastResendFrom = applied + 1;
                state.LastResendAt = now;
                actions.Frames.Add(new ResendRequestFrame { Fleet = _fleet, Node = upload.Node, Sender = _store.ReplicaId, Origin = upload.Origin, FromSeq = applied + 1 });
            }

            return;
        }

        int start = (int)(applied + 1 - upload.FirstSeq);
        Counters.DuplicateOps += start;
        long nowMs = now.ToUnixTimeMilliseconds();
        long skewMs = (long)_options.MaxClockSkew.TotalMilliseconds;
        for (int i = start; i < upload.Ops.Count; i++)
        {
            SyncOp op = upload.Ops[i];
            long aheadMs = op.HlcUnixMilliseconds - nowMs;
            if (aheadMs > skewMs)
            {
                Counters.ClockSkewRefusals++;
                string message = $"op seq {op.Seq} of node '{upload.Node}' is stamped {aheadMs} ms ahead of the leader's clock (limit {skewMs} ms); fix the node's clock";
                actions.Events.Add(new SyncEvent(SyncEventKind.ClockSkewRefused, op.Seq, SyncProtocolErrorCode.ClockSkew, message, upload.Node));
                ReplyError(upload.Node, SyncProtocolErrorCode.ClockSkew, op.Seq, message, actions);
                break;
            }

            try
            {
                _store.Apply(op);
            }
            catch (SyncProtocolException ex) when (ex.Code == SyncProtocolErrorCode.CollectionNotWritable)
            {
                // The manifest does not let nodes write this collection: refuse the op (and what follows it in
                // the node's sequence), count it against the node, and keep serving everyone else.
                Counters.OpsRefused++;
                Interlocked.Increment(ref RefusalsOf(upload.Node).CollectionNotWritable);
                actions.Events.Add(new SyncEvent(SyncEventKind.OpRefused, op.Seq, ex.Code, ex.Message, upload.Node));
                ReplyError(upload.Node, ex.Code, op.Seq, ex.Message, actions);
                break;
            }
            catch (SyncProtocolException ex) when (ex.Code == SyncProtocolErrorCode.OpRejected)
            {
                Counters.OpsRejected++;
                ReplyError(upload.Node, ex.Code, op.Seq, ex.Message, actions);
                break;
            }

            Counters.OpsApplied++;
        }

        state.PendingAck = true;
    }

    private void OnPull(PullFrame pull, NodeState state, DateTimeOffset now, SyncActions actions)
    {
        long durable = _store.DurableLsn;
        if (pull.UploadDrained)
        {
            state.DrainedLsn = Math.Max(state.DrainedLsn, Math.Min(pull.AfterLsn, durable));
        }

        bool needSnapshot = pull.SnapshotId != 0
            || pull.AfterLsn < _store.FirstLsn - 1
            || pull.AfterLsn < _store.PurgedLsn
            || (pull.AfterLsn == 0 && durable > 0 && _options.SnapshotNewNodes)
            || pull.AfterLsn > durable; // the node saw a log this leader no longer has: re-bootstrap
        if (needSnapshot && durable > 0)
        {
            SendSnapshot(pull, actions);
            return;
        }

        if (pull.AfterLsn >= durable)
        {
            state.WaitingForNews = true;
            state.NotifiedHead = durable;
            actions.Frames.Add(new StatusFrame { Fleet = _fleet, Node = pull.Node, Sender = _store.ReplicaId, Kind = SyncStatusKind.UpToDate, HeadLsn = durable, LeaderUnixMilliseconds = now.ToUnixTimeMilliseconds() });
            return;
        }

        // WaitingForNews is not cleared here: this pull may be a stale duplicate the node ignores,
        // and a redundant notice costs one small frame while a missing one leaves a node idle and behind.
        _pullVector.Clear();
        foreach (KeyValuePair<ulong, long> entry in pull.VersionVector)
        {
            _pullVector[entry.Key] = Math.Max(entry.Value, _pullVector.GetValueOrDefault(entry.Key));
        }

        int budget = _options.Limits.FrameBytesMax - SyncFrameCodec.HeaderAndChecksumBytes(_fleet, pull.Node) - SyncFrameCodec.BatchPrefixBytesMax;
        long cursor = pull.AfterLsn;
        long nowMs = now.ToUnixTimeMilliseconds();
        for (int frame = 0; frame < _options.FramesPerPull && cursor < durable; frame++)
        {
            _scratch.Clear();
            long scanned = _store.ReadLog(cursor, durable, _options.Limits.OpsPerBatchMax, budget, _scratch);
            var ops = new List<SyncOp>(_scratch.Count);
            int bodyBytes = 0;
            long previous = cursor;
            long to = scanned;
            for (int i = 0; i < _scratch.Count; i++)
            {
                SyncOp op = _scratch[i];
                if (_pullVector.TryGetValue(op.Origin, out long held) && op.Seq <= held)
                {
                    continue; // the node holds it already (its own ops, typically)
                }

                int size = SyncFrameCodec.DownloadOpBytes(op, previous);
                if (ops.Count > 0 && bodyBytes + size > budget)
                {
                    to = _scratch[i - 1].Lsn;
                    break;
                }

                bodyBytes += size;
                ops.Add(op);
                previous = op.Lsn;
            }

            if (to <= cursor)
            {
                break; // defensive: a store that scans nothing must not loop
            }

            bool last = frame == _options.FramesPerPull - 1 || to >= durable;
            actions.Frames.Add(new DownloadBatchFrame
            {
                Fleet = _fleet, Node = pull.Node, Sender = _store.ReplicaId, IsLast = last, FromLsn = cursor, ToLsn = to,
                HeadLsn = durable, LeaderUnixMilliseconds = nowMs, Ops = ops,
            });
            Counters.DownloadOpsSent += ops.Count;
            cursor = to;
        }

        if (cursor >= durable)
        {
            // The answer reaches the head: the node is up to date once it applies it, so it is told
            // when the head moves again (it will not pull on its own until then).
            state.WaitingForNews = true;
            state.NotifiedHead = durable;
        }
    }

    private void SendSnapshot(PullFrame pull, SyncActions actions)
    {
        int from = 0;
        if (_snapshot is not null && pull.SnapshotId == _snapshot.Id && pull.SnapshotNextChunk < _snapshot.Total)
        {
            from = pull.SnapshotNextChunk; // resume an interrupted transfer
        }
        else if (_snapshot is null || _snapshot.Lsn < _store.PurgedLsn || _snapshot.Lsn < _store.FirstLsn - 1 || _snapshot.Lsn < pull.AfterLsn)
        {
            SyncSnapshot export = _store.ExportSnapshot();
            uint checksum = Crc32C.Compute(export.Data);
            ulong id = Mix(((ulong)export.Lsn * 0x9E37_79B9_7F4A_7C15ul) ^ checksum ^ _store.ReplicaId ^ (ulong)export.Data.Length) | 1;
            int total = Math.Max(1, (export.Data.Length + _options.SnapshotChunkBytes - 1) / _options.SnapshotChunkBytes);
            _snapshot = new CachedSnapshot(id, export.Lsn, export.Data, checksum, total);
            Counters.SnapshotsExported++;
        }

        CachedSnapshot snapshot = _snapshot;
        int end = Math.Min(snapshot.Total, from + _options.FramesPerPull);
        for (int index = from; index < end; index++)
        {
            int offset = index * _options.SnapshotChunkBytes;
            int length = Math.Min(_options.SnapshotChunkBytes, snapshot.Data.Length - offset);
            actions.Frames.Add(new SnapshotChunkFrame
            {
                Fleet = _fleet, Node = pull.Node, Sender = _store.ReplicaId, IsLast = index == end - 1, SnapshotId = snapshot.Id,
                SnapshotLsn = snapshot.Lsn, Index = index, Total = snapshot.Total, TotalBytes = snapshot.Data.Length,
                Checksum = snapshot.Checksum, Data = snapshot.Data.AsMemory(offset, Math.Max(0, length)),
            });
            Counters.SnapshotChunksSent++;
        }
    }

    private void EmitAcks(DateTimeOffset now, SyncActions actions)
    {
        foreach ((string node, NodeState state) in _nodes)
        {
            if (!state.PendingAck && !state.ForceAck)
            {
                continue;
            }

            long durableSeq = _store.GetDurableSeq(state.Replica);
            if (durableSeq > state.LastAckSent || state.ForceAck)
            {
                state.ForceAck = false;
                state.LastAckSent = Math.Max(state.LastAckSent, durableSeq);
                Counters.AcksSent++;
                actions.Frames.Add(new AckFrame
                {
                    Fleet = _fleet, Node = node, Sender = _store.ReplicaId, Origin = state.Replica, AckedSeq = durableSeq,
                    HeadLsn = _store.DurableLsn, LeaderUnixMilliseconds = now.ToUnixTimeMilliseconds(),
                });
            }

            if (durableSeq >= _store.GetAppliedSeq(state.Replica))
            {
                state.PendingAck = false;
            }
        }
    }

    private void ReplyError(string node, SyncProtocolErrorCode code, long detail, string message, SyncActions actions)
    {
        Counters.ErrorsSent++;
        if (!SyncFrameCodec.IsValidName(node))
        {
            return; // no address to answer to; the counter records it
        }

        actions.Frames.Add(new ErrorFrame { Fleet = _fleet, Node = node, Sender = _store.ReplicaId, Code = code, Detail = detail, Message = message });
        actions.Events.Add(new SyncEvent(SyncEventKind.Error, detail, code, message, node));
    }

    private NodeRefusalCounters RefusalsOf(string node)
    {
        Interlocked.Increment(ref _refusalTotal); // every caller counts one refusal
        return _refusals.GetOrAdd(node, static _ => new NodeRefusalCounters());
    }

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51_AFD7_ED55_8CCDul;
        x ^= x >> 33;
        return x;
    }


    private sealed record CachedSnapshot(ulong Id, long Lsn, byte[] Data, uint Checksum, int Total);

    private sealed class NodeState
    {
        public ulong Replica;
        public DateTimeOffset LastSeenAt;
        public long DrainedLsn;
        public long LastAckSent;
        public bool PendingAck;
        public bool ForceAck;
        public bool WaitingForNews;
        public long NotifiedHead;
        public long LastResendFrom;
        public DateTimeOffset LastResendAt;
    }
}
