using System.Buffers;

namespace CortexEdge.Sync.Replication;

/// <summary>
/// The leader side of WAL replication as a pure state machine: fed replica status frames and the
/// time, it produces batch and snapshot frames. No I/O of its own (the source is the log; the caller
/// moves frames). Deterministic: the same inputs give the same outputs.
/// </summary>
/// <remarks>
/// <para>Per replica it streams records from the replica's reported end in batches, each naming the
/// (LSN, CRC) of the record before it; at most <see cref="ReplicationOptions.WindowRecordCountMax"/>
/// unacknowledged; resent from the acknowledged position after
/// <see cref="ReplicationOptions.RetransmitIntervalMs"/> without progress. Only durable records are
/// shipped. When the log no longer holds the replica's position, a snapshot goes first.</para>
/// <para>A status from a newer epoch fences this leader for good (<see cref="IsFenced"/>): it sends
/// nothing more and its owner must refuse writes. Bad frames are counted, never fatal.</para>
/// <para>Not thread-safe: one caller at a time.</para>
/// </remarks>
public sealed class ReplicationLeaderProtocol
{
    private readonly IReplicationSource _source;
    private readonly ReplicationOptions _options;
    private readonly Dictionary<string, Link> _links = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _batchBuffer = new(64 << 10);
    private byte[] _chunkBuffer = [];

    /// <summary>Creates the protocol over <paramref name="source"/>.</summary>
    public ReplicationLeaderProtocol(IReplicationSource source, ReplicationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _options = options ?? new ReplicationOptions();
        _options.Validate();
    }

    /// <summary>true once a replica reported a newer epoch: this node is no longer the leader.</summary>
    public bool IsFenced => FenceReason is not null;

    /// <summary>Why this leader is fenced (null when not).</summary>
    public string? FenceReason { get; private set; }

    /// <summary>Frames that failed to decode or did not belong here (counted, ignored).</summary>
    public long RejectedFrameCount { get; private set; }

    /// <summary>The replica whose position holds the leader's WAL back the most (null when none holds it).</summary>
    public string? RetentionHolder { get; private set; }

    /// <summary>Fences this leader (a newer leader was announced elsewhere, e.g. the retained leadership record).</summary>
    public void Fence(string reason) => FenceReason ??= reason;

    /// <summary>Handles one frame from a replica and appends what to send to <paramref name="output"/>.</summary>
    public void Receive(ReadOnlySpan<byte> encoded, long nowMs, List<OutgoingFrame> output)
    {
        if (!ReplicationFrameCodec.TryDecode(encoded, out ReplicationFrame? frame, out _) || frame is not ReplicaStatusFrame status)
        {
            RejectedFrameCount++;
            return;
        }

        if (status.Epoch > _source.Epoch)
        {
            Fence($"replica '{status.ReplicaName}' follows epoch {status.Epoch}, newer than this leader's epoch {_source.Epoch}: another node was promoted");
            return;
        }

        if (!_links.TryGetValue(status.ReplicaName, out Link? link))
        {
            if (_links.Count >= _options.ReplicaCountMax)
            {
                RejectedFrameCount++;
                return;
            }

            link = new Link(status.ReplicaName) { ProgressMs = nowMs };
            _links.Add(status.ReplicaName, link);
        }

        link.LastHeardMs = nowMs;
        link.Halted = status.Halted;
        if (status.LastLsn != link.KnownLsn || status.SnapshotId != link.ReportedSnapshotId || status.SnapshotOffset != link.ReportedSnapshotOffset)
        {
            link.ProgressMs = nowMs;
        }

        link.ReportedSnapshotId = status.SnapshotId;
        link.ReportedSnapshotOffset = status.SnapshotOffset;

        bool movedBack = status.LastLsn < link.KnownLsn;
        link.KnownLsn = status.LastLsn;
        link.DurableLsn = status.DurableLsn;
        if (movedBack || link.NextLsn <= status.LastLsn)
        {
            link.NextLsn = status.LastLsn + 1;
        }

        if (link.Snapshot is { } snapshot)
        {
            if (status.LastLsn >= snapshot.Lsn)
            {
                link.Snapshot = null; // installed (or not needed): the stream chains from the anchor
            }
            else if (status.SnapshotId == snapshot.Id)
            {
                link.SnapshotAckedOffset = status.SnapshotOffset;
                link.SnapshotNextOffset = Math.Max(link.SnapshotNextOffset, status.SnapshotOffset);
            }
            else
            {
                link.SnapshotAckedOffset = 0; // the replica holds none of it (restarted, or discarded); the retransmit timer resends from 0
            }
        }

        UpdateRetention();
        Pump(link, nowMs, output);
    }

    /// <summary>Advances time: resends after silence, heartbeats, new records.</summary>
    public void Tick(long nowMs, List<OutgoingFrame> output)
    {
        foreach (Link link in _links.Values)
        {
            if (nowMs - link.ProgressMs >= _options.RetransmitIntervalMs)
            {
                link.NextLsn = link.KnownLsn + 1;
                link.SnapshotNextOffset = link.SnapshotAckedOffset;
                link.ProgressMs = nowMs;
                link.ForceSend = true;
            }

            Pump(link, nowMs, output);
        }
    }

    /// <summary>How many replicas reported <paramref name="lsn"/> durable.</summary>
    public int CountDurable(long lsn)
    {
        int count = 0;
        foreach (Link link in _links.Values)
        {
            if (!link.Halted && link.DurableLsn >= lsn)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>What is known about each replica.</summary>
    public IReadOnlyList<ReplicaProgress> GetReplicas()
    {
        long shippable = _source.ShippableLsn;
        var list = new List<ReplicaProgress>(_links.Count);
        foreach (Link link in _links.Values.OrderBy(l => l.Name, StringComparer.Ordinal))
        {
            string mode = link.Halted ? "halted" : link.KnownLsn > shippable ? "ahead" : link.Snapshot is not null ? "snapshot" : "streaming";
            list.Add(new ReplicaProgress(link.Name, link.KnownLsn, link.DurableLsn, Math.Max(0, shippable - link.KnownLsn), mode, link.Holds, link.LastHeardMs));
        }

        return list;
    }

    private void UpdateRetention()
    {
        long shippable = _source.ShippableLsn;
        string? holder = null;
        long holderLsn = long.MaxValue;
        foreach (Link link in _links.Values)
        {
            bool hold = !link.Halted && shippable - link.KnownLsn <= _options.RetentionRecordCountMax;
            if (hold)
            {
                // Keep the replica's last record too: the next batch names its CRC.
                long keepFrom = Math.Max(1, link.KnownLsn);
                if (!link.Holds || link.HeldFrom != keepFrom)
                {
                    _source.SetRetentionHold(link.Name, keepFrom);
                    link.HeldFrom = keepFrom;
                }

                if (keepFrom < holderLsn)
                {
                    holderLsn = keepFrom;
                    holder = link.Name;
                }
            }
            else if (link.Holds)
            {
                _source.ReleaseRetentionHold(link.Name);
            }

            link.Holds = hold;
        }

        RetentionHolder = holder;
    }

    private bool TryChain(Link link, long lsn, out uint crc)
    {
        crc = 0;
        if (lsn == 0)
        {
            return _source.FirstLsn <= 1;
        }

        if (lsn + 1 < _source.FirstLsn)
        {
            return false;
        }

        if (_source.TryGetCrc(lsn, out crc))
        {
            return true;
        }

        if (link.AnchorLsn == lsn)
        {
            crc = link.AnchorCrc;
            return true;
        }

        return false;
    }

    private void Pump(Link link, long nowMs, List<OutgoingFrame> output)
    {
        if (IsFenced || link.Halted)
        {
            return;
        }

        long shippable = _source.ShippableLsn;
        if (link.KnownLsn > shippable)
        {
            return; // "ahead": reported by GetReplicas; nothing can chain
        }

        if (TryChain(link, link.KnownLsn, out _))
        {
            link.Snapshot = null;
        }
        else if (link.Snapshot is null)
        {
            if (!_source.TryGetSnapshot(Math.Max(link.KnownLsn, _source.FirstLsn - 1), out IReplicationSnapshot? snapshot) || snapshot is null)
            {
                return; // being made; a later tick sends it
            }

            link.Snapshot = snapshot;
            link.AnchorLsn = snapshot.Lsn;
            link.AnchorCrc = snapshot.AnchorCrc;

            // Resume a transfer the replica already staged part of (it or this leader restarted).
            long resumeAt = link.ReportedSnapshotId == snapshot.Id ? Math.Min(link.ReportedSnapshotOffset, snapshot.LengthBytes) : 0;
            link.SnapshotAckedOffset = resumeAt;
            link.SnapshotNextOffset = resumeAt;
        }

        if (link.Snapshot is { } current)
        {
            SendSnapshot(link, current, shippable, nowMs, output);
            return;
        }

        bool sent = false;
        while (link.NextLsn <= shippable && link.NextLsn - 1 - link.KnownLsn < _options.WindowRecordCountMax)
        {
            long prevLsn = link.NextLsn - 1;
            if (!TryChain(link, prevLsn, out uint prevCrc))
            {
                break;
            }

            _batchBuffer.ResetWrittenCount();
            int countMax = (int)Math.Min(_options.BatchRecordCountMax, shippable - prevLsn);
            int count = _source.ReadRecords(link.NextLsn, countMax, _options.BatchBytesMax, _batchBuffer);
            if (count == 0)
            {
                break;
            }

            var frame = new WalBatchFrame(_source.Epoch, shippable, nowMs, prevLsn, prevCrc, count, _batchBuffer.WrittenMemory.ToArray());
            output.Add(new OutgoingFrame(link.Name, ReplicationFrameCodec.Encode(frame)));
            link.NextLsn += count;
            sent = true;
        }

        if (sent)
        {
            link.LastSentMs = nowMs;
            link.ForceSend = false;
        }
        else if (link.ForceSend || nowMs - link.LastSentMs >= _options.HeartbeatIntervalMs)
        {
            long prevLsn = Math.Min(link.NextLsn - 1, shippable);
            if (TryChain(link, prevLsn, out uint prevCrc))
            {
                output.Add(new OutgoingFrame(link.Name, ReplicationFrameCodec.Encode(new WalBatchFrame(_source.Epoch, shippable, nowMs, prevLsn, prevCrc, 0, ReadOnlyMemory<byte>.Empty))));
            }

            link.LastSentMs = nowMs;
            link.ForceSend = false;
        }
    }

    private void SendSnapshot(Link link, IReplicationSnapshot snapshot, long shippable, long nowMs, List<OutgoingFrame> output)
    {
        int chunkBytes = _options.SnapshotChunkBytes;
        if (_chunkBuffer.Length < chunkBytes)
        {
            _chunkBuffer = new byte[chunkBytes];
        }

        bool sent = false;
        while (link.SnapshotNextOffset < snapshot.LengthBytes
            && link.SnapshotNextOffset - link.SnapshotAckedOffset < (long)chunkBytes * _options.SnapshotWindowChunkCountMax)
        {
            int length = (int)Math.Min(chunkBytes, snapshot.LengthBytes - link.SnapshotNextOffset);
            int read = snapshot.Read(link.SnapshotNextOffset, _chunkBuffer.AsSpan(0, length));
            if (read != length)
            {
                // The snapshot was retired by the source (a newer one replaced it): start over with the newest.
                link.Snapshot = null;
                return;
            }

            output.Add(new OutgoingFrame(link.Name, ReplicationFrameCodec.Encode(new SnapshotChunkFrame(_source.Epoch, snapshot.Id, snapshot.Lsn, snapshot.AnchorCrc,
                snapshot.LengthBytes, snapshot.Checksum, link.SnapshotNextOffset, shippable, _chunkBuffer.AsSpan(0, length).ToArray()))));
            link.SnapshotNextOffset += length;
            sent = true;
        }

        // Everything staged but not installed (the replica restarted in between), or an empty
        // snapshot: an empty chunk at the end makes the replica verify and install.
        if (!sent && link.SnapshotNextOffset >= snapshot.LengthBytes && (link.ForceSend || link.SnapshotAckedOffset >= snapshot.LengthBytes || nowMs - link.LastSentMs >= _options.HeartbeatIntervalMs))
        {
            output.Add(new OutgoingFrame(link.Name, ReplicationFrameCodec.Encode(new SnapshotChunkFrame(_source.Epoch, snapshot.Id, snapshot.Lsn, snapshot.AnchorCrc,
                snapshot.LengthBytes, snapshot.Checksum, snapshot.LengthBytes, shippable, ReadOnlyMemory<byte>.Empty))));
            sent = true;
        }

        if (sent)
        {
            link.LastSentMs = nowMs;
            link.ForceSend = false;
        }
    }

    private sealed class Link(string name)
    {
        public string Name { get; } = name;

        public long KnownLsn { get; set; }

        public long DurableLsn { get; set; }

        public long NextLsn { get; set; } = 1;

        public long ProgressMs { get; set; }

        public long LastSentMs { get; set; } = long.MinValue / 2;

        public long LastHeardMs { get; set; }

        public bool Halted { get; set; }

        public bool Holds { get; set; }

        public long HeldFrom { get; set; }

        public bool ForceSend { get; set; }

        public IReplicationSnapshot? Snapshot { get; set; }

        public long SnapshotAckedOffset { get; set; }

        public ulong ReportedSnapshotId { get; set; }

        public long ReportedSnapshotOffset { get; set; }

        public long SnapshotNextOffset { get; set; }

        public long AnchorLsn { get; set; } = -1;

        public uint AnchorCrc { get; set; }
    }
}
