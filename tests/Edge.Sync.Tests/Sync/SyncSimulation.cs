using System.Text;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>
/// A deterministic simulation of a leader and 3-5 nodes running the real session state machines
/// over a seeded network that drops, duplicates, reorders and delays frames, partitions nodes,
/// and crashes and restarts nodes and the leader (each store losing exactly what its durability
/// mode allows). Every frame goes through the real codec. Everything is derived from the seed, so
/// a seed replays exactly.
/// </summary>
internal sealed class SyncSimulation
{
    private const string Fleet = "sim";
    private const long Epoch = 1_800_000_000_000;

    private readonly Random _rng;
    private SyncSessionOptions _options;
    private readonly SimNode[] _nodes;
    private readonly Dictionary<string, int> _nodeIndex = new(StringComparer.Ordinal);
    private readonly MemorySyncStore _leaderStore;
    private readonly PriorityQueue<Message, (long, long)> _inFlight = new();
    private readonly StringBuilder _trace = new();
    private readonly double _dropRate;
    private readonly double _duplicateRate;
    private readonly int _delayMaxMs;
    private readonly long _chaosEndMs;
    private LeaderSyncSession? _leader;
    private long _leaderRestartAt = -1;
    private long _messageSeq;
    private long _nowMs;
    private long _nextLeaderFlushMs;
    private long _nextChaosStepMs;
    private bool _chaos = true;
    private int _stalledSteps;

    public SyncSimulation(int seed)
    {
        Seed = seed;
        _rng = new Random(seed);
        // A short tombstone horizon is exercised by LeaderSyncSessionTests; here every node holds
        // back the purge until it is past the delete (a node beyond a time horizon that still uploads
        // writes concurrent with a purged delete can resurrect it at the leader: see docs/sync.md).
        bool tightHorizon = _rng.NextDouble() < 0.0;
        _options = new SyncSessionOptions
        {
            Limits = new SyncFrameLimits { FrameBytesMax = 2048, OpBytesMax = 512, OpsPerBatchMax = 64 },
            UploadWindowFrames = 1 + _rng.Next(4),
            FramesPerPull = 1 + _rng.Next(4),
            ResponseTimeout = TimeSpan.FromMilliseconds(300),
            RetryDelay = TimeSpan.FromMilliseconds(100),
            RetryDelayMax = TimeSpan.FromSeconds(5),
            ResendInterval = TimeSpan.FromMilliseconds(200),
            PollInterval = _rng.Next(2) == 0 ? TimeSpan.FromSeconds(2) : null, // without polling, only the leader's notices wake idle nodes
            PurgeInterval = TimeSpan.FromSeconds(1),
            TombstoneHorizon = tightHorizon ? TimeSpan.FromSeconds(3) : TimeSpan.FromHours(1),
            SnapshotChunkBytes = 256 + _rng.Next(512),
        };
        _dropRate = _rng.NextDouble() * 0.2;
        _duplicateRate = _rng.NextDouble() * 0.1;
        _delayMaxMs = 1 + _rng.Next(150);
        _chaosEndMs = 8_000 + _rng.Next(8_000);
        _nowMs = 0;
        _leaderStore = new MemorySyncStore(0x1EAD_0000_0000_0001, isLeader: true, MemoryDurability.OnFlush);
        int nodeCount = 3 + _rng.Next(3);
        _options = new SyncSessionOptions
        {
            Limits = _options.Limits, UploadWindowFrames = _options.UploadWindowFrames, FramesPerPull = _options.FramesPerPull,
            ResponseTimeout = _options.ResponseTimeout, RetryDelay = _options.RetryDelay, RetryDelayMax = _options.RetryDelayMax,
            ResendInterval = _options.ResendInterval, PollInterval = _options.PollInterval, PurgeInterval = _options.PurgeInterval,
            TombstoneHorizon = _options.TombstoneHorizon, SnapshotChunkBytes = _options.SnapshotChunkBytes,
            FleetMembers = [.. Enumerable.Range(0, nodeCount).Select(i => $"node-{i}")], // the fleet manifest: late starters hold back purge
        };
        _leader = new LeaderSyncSession(_leaderStore, Fleet, Now, _options);
        _nodes = new SimNode[nodeCount];
        for (int i = 0; i < nodeCount; i++)
        {
            var durability = _rng.NextDouble() < 0.4 ? MemoryDurability.Always : MemoryDurability.OnFlush;
            var node = new SimNode($"node-{i}", new MemorySyncStore(0x0DE0_0000_0000_0000ul + (ulong)(i + 1), isLeader: false, durability))
            {
                FlushIntervalMs = 10 + _rng.Next(200),
                StartAtMs = _rng.Next(3_000), // nodes come online in random order, having written offline
                ClockOffsetMs = 0,
            };
            node.NextFlushMs = node.FlushIntervalMs;
            node.RestartAtMs = node.StartAtMs;
            _nodes[i] = node;
            _nodeIndex[node.Name] = i;
        }

        if (_rng.NextDouble() < 0.1)
        {
            // One node's clock jumps 90 s ahead for a while: its ops are refused until the leader's clock catches up.
            SimNode skewed = _nodes[_rng.Next(nodeCount)];
            skewed.SkewFromMs = _rng.Next((int)_chaosEndMs / 2);
            skewed.SkewUntilMs = skewed.SkewFromMs + 500 + _rng.Next(2_000);
        }
    }

    public int Seed { get; }

    public long ClockSkewRefusals { get; private set; }

    public long SnapshotsImported => _nodes.Sum(n => n.SnapshotsImported);

    public long Crashes { get; private set; }

    public long DuplicateOps { get; private set; }

    public long Gaps { get; private set; }

    public long MalformedFrames { get; private set; }

    private void HarvestLeaderCounters()
    {
        if (_leader is not null)
        {
            DuplicateOps += _leader.Counters.DuplicateOps;
            Gaps += _leader.Counters.Gaps;
            MalformedFrames += _leader.Counters.MalformedFrames;
        }
    }

    private DateTimeOffset Now => DateTimeOffset.FromUnixTimeMilliseconds(Epoch + _nowMs);

    /// <summary>Runs the chaos phase, heals everything and runs until quiet; returns null or what went wrong.</summary>
    public string? Run()
    {
        const long convergeBudgetMs = 400_000;
        while (true)
        {
            if (_chaos && _nowMs >= _chaosEndMs)
            {
                Heal();
            }

            if (!_chaos && IsQuiet())
            {
                break;
            }

            if (_nowMs > _chaosEndMs + convergeBudgetMs)
            {
                return $"did not converge within {convergeBudgetMs / 1000} s after healing; {Describe()}";
            }

            long before = _nowMs;
            Step();
            _stalledSteps = _nowMs == before ? _stalledSteps + 1 : 0;
            if (_stalledSteps > 100_000)
            {
                return $"livelock: 100000 steps without time moving at {_nowMs} ms; {Describe()}";
            }
        }

        HarvestLeaderCounters();
        foreach (SimNode node in _nodes)
        {
            node.SnapshotsImported += node.Session?.Counters.SnapshotsImported ?? 0;
        }

        return Verify();
    }

    public string Trace => _trace.ToString();

    private void Step()
    {
        long next = NextEventTime();
        _nowMs = Math.Max(_nowMs, next);

        // Deliver every message due now.
        while (_inFlight.TryPeek(out Message? message, out (long Time, long Seq) key) && key.Time <= _nowMs)
        {
            _inFlight.Dequeue();
            Deliver(message);
        }

        if (_leader is null && _leaderRestartAt >= 0 && _nowMs >= _leaderRestartAt)
        {
            _leader = new LeaderSyncSession(_leaderStore, Fleet, Now, _options);
            _leaderRestartAt = -1;
        }

        if (_nowMs >= _nextLeaderFlushMs)
        {
            _nextLeaderFlushMs = _nowMs + 10; // group commit every 10 ms
            if (_leader is not null)
            {
                _leaderStore.Flush();
                Dispatch(-1, _leader.Tick(Now));
            }
        }

        for (int i = 0; i < _nodes.Length; i++)
        {
            SimNode node = _nodes[i];
            if (node.Session is null && node.RestartAtMs >= 0 && _nowMs >= node.RestartAtMs)
            {
                node.RestartAtMs = -1;
                node.Session = new NodeSyncSession(node.Store, Fleet, node.Name, _options);
                Dispatch(i, node.Session.RequestSync(SyncScope.All, NodeNow(node)));
            }

            if (node.Store.Durability == MemoryDurability.OnFlush && _nowMs >= node.NextFlushMs)
            {
                node.NextFlushMs = _nowMs + node.FlushIntervalMs;
                if (node.Store.PendingEntries > 0)
                {
                    node.Store.Flush();
                    if (node.Session is not null)
                    {
                        Dispatch(i, node.Session.NotifyLocalWrite(NodeNow(node)));
                    }
                }
            }

            if (node.Session?.NextWakeAt is DateTimeOffset wake && wake <= NodeNow(node))
            {
                Dispatch(i, node.Session.Tick(NodeNow(node)));
            }
        }

        if (_chaos && _nowMs >= _nextChaosStepMs)
        {
            _nextChaosStepMs = _nowMs + 5 + _rng.Next(20);
            Chaos();
        }
    }

    private long NextEventTime()
    {
        long next = long.MaxValue;
        if (_inFlight.TryPeek(out _, out (long Time, long Seq) key))
        {
            next = key.Time;
        }

        // The leader's group commit runs every 10 ms while there is something to flush; otherwise
        // it only ticks (notices, purge) once a second.
        next = Math.Min(next, _leaderStore.PendingEntries > 0 ? _nextLeaderFlushMs : _nextLeaderFlushMs + 990);
        if (_leaderRestartAt >= 0)
        {
            next = Math.Min(next, _leaderRestartAt);
        }

        foreach (SimNode node in _nodes)
        {
            if (node.Session is null && node.RestartAtMs >= 0)
            {
                next = Math.Min(next, node.RestartAtMs);
            }

            if (node.Store.Durability == MemoryDurability.OnFlush && node.Store.PendingEntries > 0)
            {
                next = Math.Min(next, node.NextFlushMs);
            }

            if (node.Session?.NextWakeAt is DateTimeOffset wake)
            {
                next = Math.Min(next, (wake.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond - Epoch);
            }
        }

        if (_chaos)
        {
            next = Math.Min(next, _nextChaosStepMs);
        }

        return next;
    }

    private void Chaos()
    {
        // Writes while online or offline.
        foreach (SimNode node in _nodes)
        {
            if (_rng.NextDouble() < 0.06)
            {
                Write(node);
            }
        }

        if (_rng.NextDouble() < 0.02)
        {
            WriteLeader();
        }

        double r = _rng.NextDouble();
        if (r < 0.004)
        {
            CrashNode(_rng.Next(_nodes.Length));
        }
        else if (r < 0.005 && _leader is not null)
        {
            Crashes++;
            HarvestLeaderCounters();
            _leaderStore.Crash();
            _leader = null;
            _leaderRestartAt = _nowMs + 50 + _rng.Next(1_500);
            _trace.AppendLine($"{_nowMs}: leader crash, head {_leaderStore.HeadLsn}");
        }
        else if (r < 0.012)
        {
            SimNode node = _nodes[_rng.Next(_nodes.Length)];
            node.PartitionedUntilMs = _nowMs + 100 + _rng.Next(4_000);
        }
        else if (r < 0.013 && _leaderStore.DurableLsn > 5)
        {
            _leaderStore.PruneLog(_leaderStore.DurableLsn - _rng.Next(5));
            _trace.AppendLine($"{_nowMs}: leader log pruned to {_leaderStore.FirstLsn}");
        }
    }

    private void Write(SimNode node)
    {
        long nowMs = Epoch + _nowMs + node.ClockOffsetAt(_nowMs);
        double kind = _rng.NextDouble();
        byte[] payload = kind < 0.5
            ? MemorySyncStore.EncodeAdd("c" + _rng.Next(4), 1 + _rng.Next(3))
            : kind < 0.85
                ? MemorySyncStore.EncodeSet("r" + _rng.Next(6), node.Name + ":" + _rng.Next(1000) + new string('x', _rng.Next(40)))
                : MemorySyncStore.EncodeDelete("r" + _rng.Next(6));
        SyncOpFlags flags = _rng.NextDouble() < 0.2 ? SyncOpFlags.Priority : SyncOpFlags.None;
        node.Store.WriteLocal(payload, nowMs, flags);
        if (node.Session is not null)
        {
            Dispatch(Array.IndexOf(_nodes, node), node.Session.NotifyLocalWrite(NodeNow(node)));
        }
    }

    private void WriteLeader()
    {
        if (_leader is null)
        {
            return;
        }

        byte[] payload = _rng.NextDouble() < 0.5
            ? MemorySyncStore.EncodeAdd("c" + _rng.Next(4), 1)
            : MemorySyncStore.EncodeSet("r" + _rng.Next(6), "leader:" + _rng.Next(1000));
        _leaderStore.WriteLocal(payload, Epoch + _nowMs);
    }

    private void CrashNode(int index)
    {
        SimNode node = _nodes[index];
        if (node.Session is null)
        {
            return;
        }

        Crashes++;
        node.Store.Crash();
        node.SnapshotsImported += node.Session.Counters.SnapshotsImported;
        node.Session = null;
        node.RestartAtMs = _nowMs + 20 + _rng.Next(2_000);
        _trace.AppendLine($"{_nowMs}: {node.Name} crash, own seq {node.Store.LastOwnSeq}, cursor {node.Store.DownloadCursor}");
    }

    private void Heal()
    {
        _chaos = false;
        _trace.AppendLine($"{_nowMs}: heal");
        if (_leader is null)
        {
            _leader = new LeaderSyncSession(_leaderStore, Fleet, Now, _options);
            _leaderRestartAt = -1;
        }

        for (int i = 0; i < _nodes.Length; i++)
        {
            SimNode node = _nodes[i];
            node.PartitionedUntilMs = 0;
            node.StartAtMs = 0;
            node.Session ??= new NodeSyncSession(node.Store, Fleet, node.Name, _options);
            node.RestartAtMs = -1;
            Dispatch(i, node.Session.RequestSync(SyncScope.All, NodeNow(node)));
        }
    }

    private bool IsQuiet()
    {
        if (_inFlight.Count > 0 || _leaderStore.DurableLsn != _leaderStore.HeadLsn)
        {
            return false;
        }

        foreach (SimNode node in _nodes)
        {
            MemorySyncStore s = node.Store;
            if (node.Session is null || !node.Session.IsIdle || s.UploadCursor != s.LastOwnSeq || s.DownloadCursor != _leaderStore.DurableLsn || s.PendingEntries > 0)
            {
                return false;
            }
        }

        return true;
    }

    private void Dispatch(int from, SyncActions actions)
    {
        foreach (SyncEvent e in actions.Events)
        {
            if (e.Kind == SyncEventKind.ClockSkewRefused && from == -1)
            {
                ClockSkewRefusals++;
            }
        }

        foreach (SyncFrame frame in actions.Frames)
        {
            byte[] bytes = SyncFrameCodec.Encode(frame, _options.Limits);
            int to = from == -1 ? _nodeIndex[frame.Node] : -1;
            int nodeIndex = from == -1 ? to : from;
            SimNode node = _nodes[nodeIndex];
            if (_chaos && (_nowMs < node.PartitionedUntilMs || _rng.NextDouble() < _dropRate))
            {
                continue;
            }

            int copies = _chaos && _rng.NextDouble() < _duplicateRate ? 2 : 1;
            for (int c = 0; c < copies; c++)
            {
                long at = _nowMs + 1 + _rng.Next(_delayMaxMs);
                _inFlight.Enqueue(new Message(from, to, bytes, frame.Node), (at, _messageSeq++));
            }
        }
    }

    private void Deliver(Message message)
    {
        if (message.To == -1)
        {
            if (_leader is null)
            {
                return; // the leader is down: the frame is lost
            }

            if (Environment.GetEnvironmentVariable("SIM_TRACE") == "1")
            {
                _trace.AppendLine($"{_nowMs}: {message.TopicNode} -> leader {Describe(SyncFrameCodec.Decode(message.Bytes, _options.Limits))} (durable {_leaderStore.DurableLsn})");
            }

            Dispatch(-1, _leader.ReceiveBytes(message.Bytes, message.TopicNode, Now));
            return;
        }

        SimNode node = _nodes[message.To];
        if (node.Session is null || (_chaos && _nowMs < node.PartitionedUntilMs))
        {
            return;
        }

        SyncFrame frame = SyncFrameCodec.Decode(message.Bytes, _options.Limits);
        if (Environment.GetEnvironmentVariable("SIM_TRACE") == "1")
        {
            _trace.AppendLine($"{_nowMs}: -> {node.Name} {Describe(frame)} (cursor {node.Store.DownloadCursor})");
        }

        if (frame is AckFrame ack)
        {
            node.MaxAcked = Math.Max(node.MaxAcked, ack.AckedSeq);
        }

        Dispatch(message.To, node.Session.Receive(frame, NodeNow(node)));
    }

    // Sessions time their retries with a monotonic clock; only the HLC stamps of writes see a skewed wall clock.
    private DateTimeOffset NodeNow(SimNode node) => Now;

    private string? Verify()
    {
        // Expected counter totals: every surviving own op of every replica, counted once.
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (MemorySyncStore store in _nodes.Select(n => n.Store).Append(_leaderStore))
        {
            foreach (SyncOp op in store.OwnOps)
            {
                ReadOnlySpan<byte> p = op.Payload.Span;
                if (p[0] == 1)
                {
                    string key = Encoding.UTF8.GetString(p.Slice(2, p[1]));
                    expected[key] = expected.GetValueOrDefault(key) + BitConverter.ToInt64(p[(2 + p[1])..]);
                }
            }
        }

        SortedDictionary<string, string> leaderState = _leaderStore.VisibleState();
        foreach ((string key, long total) in expected)
        {
            if (_leaderStore.CounterTotal(key) != total)
            {
                return $"leader counter {key} is {_leaderStore.CounterTotal(key)}, expected exactly {total}; {Describe()}";
            }
        }

        foreach (SimNode node in _nodes)
        {
            if (node.MaxAcked > node.Store.LastOwnSeq)
            {
                return $"{node.Name} was acknowledged up to seq {node.MaxAcked} but holds only {node.Store.LastOwnSeq} ops (acknowledged op lost)";
            }

            if (_leaderStore.GetAppliedSeq(node.Store.ReplicaId) != node.Store.LastOwnSeq)
            {
                return $"leader applied {node.Name} up to {_leaderStore.GetAppliedSeq(node.Store.ReplicaId)}, node wrote {node.Store.LastOwnSeq}";
            }

            foreach ((string key, long total) in expected)
            {
                if (node.Store.CounterTotal(key) != total)
                {
                    return $"{node.Name} counter {key} is {node.Store.CounterTotal(key)}, expected exactly {total}; {Describe()}";
                }
            }

            SortedDictionary<string, string> state = node.Store.VisibleState();
            if (!state.SequenceEqual(leaderState))
            {
                return $"{node.Name} state differs from the leader's: node [{string.Join(", ", state)}] leader [{string.Join(", ", leaderState)}]";
            }
        }

        return null;
    }

    private string Describe() =>
        $"leader head {_leaderStore.HeadLsn} durable {_leaderStore.DurableLsn} first {_leaderStore.FirstLsn} purged {_leaderStore.PurgedLsn}; " +
        string.Join("; ", _nodes.Select(n =>
            $"{n.Name} own {n.Store.LastOwnSeq}/{n.Store.DurableOwnSeq} up {n.Store.UploadCursor} down {n.Store.DownloadCursor} idle {n.Session?.IsIdle} " +
            $"leaderApplied {_leaderStore.GetAppliedSeq(n.Store.ReplicaId)} err {n.Session?.GetStatus(NodeNow(n)).LastError?.Message}"));

    private static string Describe(SyncFrame frame) => frame switch
    {
        DownloadBatchFrame d => $"Download ({d.FromLsn},{d.ToLsn}] head {d.HeadLsn} last {d.IsLast}",
        StatusFrame st => $"Status {st.Kind} head {st.HeadLsn}",
        PullFrame p => $"Pull after {p.AfterLsn} snap {p.SnapshotId:X}/{p.SnapshotNextChunk}",
        SnapshotChunkFrame c => $"Chunk {c.Index}/{c.Total} lsn {c.SnapshotLsn} last {c.IsLast}",
        _ => frame.Type.ToString(),
    };

    private sealed record Message(int From, int To, byte[] Bytes, string TopicNode);

    private sealed class SimNode(string name, MemorySyncStore store)
    {
        public string Name { get; } = name;

        public MemorySyncStore Store { get; } = store;

        public NodeSyncSession? Session { get; set; }

        public long RestartAtMs { get; set; }

        public long StartAtMs { get; set; }

        public long FlushIntervalMs { get; init; }

        public long NextFlushMs { get; set; }

        public long PartitionedUntilMs { get; set; }

        public long ClockOffsetMs { get; init; }

        public long SkewFromMs { get; set; } = -1;

        public long SkewUntilMs { get; set; } = -1;

        public long MaxAcked { get; set; }

        public long SnapshotsImported { get; set; }

        public long ClockOffsetAt(long nowMs) => nowMs >= SkewFromMs && nowMs < SkewUntilMs ? 90_000 : ClockOffsetMs;
    }
}
