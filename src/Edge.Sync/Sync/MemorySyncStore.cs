using System.Buffers.Binary;
using System.Text;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// An in-memory sync store for the deterministic simulation, protocol tests and benchmarks: a
/// small key-value model (grow-only per-origin counters, LWW registers with tombstones) behind
/// both store interfaces, with an explicit durability model. Every change is a journal entry;
/// <see cref="Flush"/> makes the journal durable up to its end (or every entry is durable at
/// once with <see cref="MemoryDurability.Always"/>), and <see cref="Crash"/> throws away
/// everything after the last flush and rebuilds the state from what survived: exactly the loss a
/// power cut causes under a periodic or group flush. Not thread-safe.
/// </summary>
public sealed class MemorySyncStore : ISyncNodeStore, ISyncLeaderStore
{
    private const byte KindAdd = 1;
    private const byte KindSet = 2;
    private const byte KindDelete = 3;

    private readonly List<Entry> _journal = [];
    private readonly bool _isLeader;
    private int _durableCount;

    // State rebuilt from the journal.
    private readonly List<SyncOp> _ownOps = [];
    private readonly Dictionary<ulong, long> _vector = [];
    private readonly Dictionary<string, Dictionary<ulong, long>> _counters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Register> _registers = new(StringComparer.Ordinal);
    private readonly List<SyncOp> _log = [];
    private readonly Dictionary<ulong, List<long>> _originLsns = [];
    private readonly Dictionary<string, ulong> _bindings = new(StringComparer.Ordinal);
    private readonly List<byte[]> _snapshotChunks = [];
    private long _firstLsn = 1;
    private long _durableLsn;
    private long _durableOwnSeq;
    private long _uploadCursor;
    private long _downloadCursor;
    private long _purgedLsn;
    private ulong _lastHlc;
    private string? _nodeName;
    private SnapshotTransfer? _pending;

    /// <summary>Creates an empty store.</summary>
    /// <param name="replicaId">The database's replica id (nonzero).</param>
    /// <param name="isLeader">True for the leader's database: own writes and applied ops form its log.</param>
    /// <param name="durability">When journal entries become durable.</param>
    public MemorySyncStore(ulong replicaId, bool isLeader, MemoryDurability durability)
    {
        ArgumentOutOfRangeException.ThrowIfZero(replicaId);
        ReplicaId = replicaId;
        _isLeader = isLeader;
        Durability = durability;
    }

    /// <inheritdoc cref="ISyncNodeStore.ReplicaId" />
    public ulong ReplicaId { get; }

    /// <summary>The durability model.</summary>
    public MemoryDurability Durability { get; }

    /// <summary>Journal entries not yet durable.</summary>
    public int PendingEntries => _journal.Count - _durableCount;

    /// <summary>Ops applied through sync since creation or the last <see cref="Crash"/> (both roles).</summary>
    public long RemoteOpsApplied { get; private set; }

    /// <summary>Encodes "add <paramref name="amount"/> to counter <paramref name="key"/>".</summary>
    public static byte[] EncodeAdd(string key, long amount)
    {
        byte[] keyBytes = KeyBytes(key);
        byte[] payload = new byte[2 + keyBytes.Length + 8];
        payload[0] = KindAdd;
        payload[1] = (byte)keyBytes.Length;
        keyBytes.CopyTo(payload, 2);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(2 + keyBytes.Length), amount);
        return payload;
    }

    /// <summary>Encodes "set register <paramref name="key"/> to <paramref name="value"/>" (last writer wins by HLC).</summary>
    public static byte[] EncodeSet(string key, string value)
    {
        byte[] keyBytes = KeyBytes(key);
        byte[] valueBytes = Encoding.UTF8.GetBytes(value);
        byte[] payload = new byte[2 + keyBytes.Length + 2 + valueBytes.Length];
        payload[0] = KindSet;
        payload[1] = (byte)keyBytes.Length;
        keyBytes.CopyTo(payload, 2);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(2 + keyBytes.Length), checked((ushort)valueBytes.Length));
        valueBytes.CopyTo(payload, 4 + keyBytes.Length);
        return payload;
    }

    /// <summary>Encodes "delete register <paramref name="key"/>" (a tombstone, last writer wins by HLC).</summary>
    public static byte[] EncodeDelete(string key)
    {
        byte[] keyBytes = KeyBytes(key);
        byte[] payload = new byte[2 + keyBytes.Length];
        payload[0] = KindDelete;
        payload[1] = (byte)keyBytes.Length;
        keyBytes.CopyTo(payload, 2);
        return payload;
    }

    /// <summary>Writes an own op (a local write) stamped from <paramref name="nowUnixMilliseconds"/>; on the leader it joins the log.</summary>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.OpRejected"/>: the payload is not a valid op.</exception>
    public SyncOp WriteLocal(ReadOnlySpan<byte> payload, long nowUnixMilliseconds, SyncOpFlags flags = SyncOpFlags.None)
    {
        Validate(payload);
        long physical = Math.Max(nowUnixMilliseconds, (long)(_lastHlc >> 16));
        ushort logical = physical == (long)(_lastHlc >> 16) ? (ushort)((_lastHlc & 0xFFFF) + 1) : (ushort)0;
        if (logical == 0 && physical == (long)(_lastHlc >> 16))
        {
            physical++; // the logical counter wrapped: move the physical part on
        }

        var op = new SyncOp(ReplicaId, _ownOps.Count + 1, SyncOp.PackHlc(physical, logical), flags, payload.ToArray());
        Append(new Entry(EntryKind.Own, op));
        return _ownOps[^1];
    }

    /// <summary>Makes every journal entry so far durable (a completed flush).</summary>
    public void Flush()
    {
        _durableCount = _journal.Count;
        _durableLsn = _firstLsn - 1 + _log.Count;
        _durableOwnSeq = _ownOps.Count;
    }

    /// <summary>A power cut: loses every entry after the last flush and rebuilds the state from the rest.</summary>
    public void Crash()
    {
        _journal.RemoveRange(_durableCount, _journal.Count - _durableCount);
        Rebuild();
    }

    /// <summary>Drops log records at or below <paramref name="upToLsn"/> (leader; they stay applied in the state).</summary>
    public void PruneLog(long upToLsn)
    {
        upToLsn = Math.Min(upToLsn, _durableLsn);
        if (upToLsn >= _firstLsn)
        {
            Append(new Entry(EntryKind.Prune, Lsn: upToLsn));
        }
    }

    /// <summary>The visible state: counters as totals, registers that are not deleted, sorted by key.</summary>
    public SortedDictionary<string, string> VisibleState()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((string key, Dictionary<ulong, long> perOrigin) in _counters)
        {
            result["counter:" + key] = perOrigin.Values.Sum().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach ((string key, Register register) in _registers)
        {
            if (!register.Deleted)
            {
                result["register:" + key] = register.Value;
            }
        }

        return result;
    }

    /// <summary>The total of counter <paramref name="key"/> (0 when absent).</summary>
    public long CounterTotal(string key) => _counters.TryGetValue(key, out Dictionary<ulong, long>? perOrigin) ? perOrigin.Values.Sum() : 0;

    /// <summary>The own ops written and surviving (durable or not yet lost), in sequence order.</summary>
    public IReadOnlyList<SyncOp> OwnOps => _ownOps;

    /// <summary>Tombstones currently held.</summary>
    public int TombstoneCount => _registers.Values.Count(r => r.Deleted);

    // ---- ISyncNodeStore ----

    /// <inheritdoc />
    public string? BoundNodeName => _nodeName;

    /// <inheritdoc />
    public void BindNodeName(string nodeName)
    {
        if (_nodeName is not null && _nodeName != nodeName)
        {
            SyncProtocolException.Throw(SyncProtocolErrorCode.NodeIdentityMismatch, $"this database is bound to node '{_nodeName}' since its first sync; it cannot sync as '{nodeName}'");
        }

        if (_nodeName is null)
        {
            Append(new Entry(EntryKind.BindName, Text: nodeName));
        }
    }

    /// <inheritdoc />
    public long LastOwnSeq => _ownOps.Count;

    /// <inheritdoc />
    public long DurableOwnSeq => _durableOwnSeq;

    /// <inheritdoc />
    public int ReadOwnOps(long afterSeq, long maxSeq, int maxCount, int maxPayloadBytes, List<SyncOp> destination)
    {
        int count = 0;
        long bytes = 0;
        for (long seq = afterSeq + 1; seq <= Math.Min(maxSeq, _ownOps.Count) && count < maxCount; seq++)
        {
            SyncOp op = _ownOps[(int)(seq - 1)];
            if (count > 0 && bytes + op.Payload.Length > maxPayloadBytes)
            {
                break;
            }

            destination.Add(op);
            bytes += op.Payload.Length;
            count++;
        }

        return count;
    }

    /// <inheritdoc />
    public SyncBacklog GetBacklog(long afterSeq, DateTimeOffset now)
    {
        long nowMs = now.ToUnixTimeMilliseconds();
        (long Ops, long Bytes, long OldestMs, long Highest) priority = (0, 0, 0, 0), normal = (0, 0, 0, 0);
        for (long seq = Math.Max(afterSeq, 0) + 1; seq <= _ownOps.Count; seq++)
        {
            SyncOp op = _ownOps[(int)(seq - 1)];
            ref var bucket = ref (op.Flags & SyncOpFlags.Priority) != 0 ? ref priority : ref normal;
            if (bucket.Ops == 0)
            {
                bucket.OldestMs = op.HlcUnixMilliseconds;
            }

            bucket.Ops++;
            bucket.Bytes += op.Payload.Length;
            bucket.Highest = seq;
        }

        return new SyncBacklog(ToClass(priority), ToClass(normal));

        SyncBacklogClass ToClass((long Ops, long Bytes, long OldestMs, long Highest) b) =>
            new(b.Ops, b.Bytes, b.Ops == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(0, nowMs - b.OldestMs)), b.Highest);
    }

    /// <inheritdoc />
    public long UploadCursor => _uploadCursor;

    /// <inheritdoc />
    public void SaveUploadCursor(long ackedSeq)
    {
        if (ackedSeq > _uploadCursor)
        {
            Append(new Entry(EntryKind.UploadCursor, Lsn: ackedSeq));
        }
    }

    /// <inheritdoc />
    public long DownloadCursor => _downloadCursor;

    /// <inheritdoc />
    public void GetVersionVector(List<KeyValuePair<ulong, long>> destination)
    {
        foreach (KeyValuePair<ulong, long> entry in _vector)
        {
            destination.Add(entry);
        }
    }

    /// <summary>Highest contiguous sequence held of <paramref name="origin"/>.</summary>
    public long GetHeldSeq(ulong origin) => _vector.GetValueOrDefault(origin);

    /// <inheritdoc />
    public int ApplyDownloaded(IReadOnlyList<SyncOp> ops, long newCursor)
    {
        // Check everything first: the call is all or nothing.
        var held = new Dictionary<ulong, long>();
        int toApply = 0;
        foreach (SyncOp op in ops)
        {
            long have = held.TryGetValue(op.Origin, out long h) ? h : _vector.GetValueOrDefault(op.Origin);
            if (op.Seq <= have)
            {
                continue;
            }

            if (op.Seq != have + 1 || op.Origin == ReplicaId)
            {
                SyncProtocolException.Throw(SyncProtocolErrorCode.StoreFailure, $"download op ({op.Origin:X16}, {op.Seq}) at LSN {op.Lsn} does not continue the held sequence {have}; not applied");
            }

            Validate(op.Payload.Span);
            held[op.Origin] = op.Seq;
            toApply++;
        }

        var copies = new SyncOp[ops.Count];
        for (int i = 0; i < ops.Count; i++)
        {
            copies[i] = ops[i] with { Payload = ops[i].Payload.ToArray() };
        }

        Append(new Entry(EntryKind.Remote, Ops: copies, Lsn: Math.Max(newCursor, _downloadCursor)));
        return toApply;
    }

    /// <inheritdoc />
    public SnapshotTransfer? PendingSnapshot => _pending;

    /// <inheritdoc />
    public void BeginSnapshot(SnapshotTransfer transfer) => Append(new Entry(EntryKind.SnapshotBegin, Transfer: transfer with { NextChunk = 0 }));

    /// <inheritdoc />
    public void AppendSnapshotChunk(int index, ReadOnlySpan<byte> data)
    {
        if (_pending is null || index != _pending.NextChunk)
        {
            throw new InvalidOperationException($"snapshot chunk {index} does not follow the pending transfer (next {_pending?.NextChunk})");
        }

        Append(new Entry(EntryKind.SnapshotChunk, Data: data.ToArray()));
    }

    /// <inheritdoc />
    public byte[] ReadPendingSnapshot()
    {
        var all = new byte[_snapshotChunks.Sum(c => c.Length)];
        int offset = 0;
        foreach (byte[] chunk in _snapshotChunks)
        {
            chunk.CopyTo(all, offset);
            offset += chunk.Length;
        }

        return all;
    }

    /// <inheritdoc />
    public void DiscardSnapshot() => Append(new Entry(EntryKind.SnapshotDiscard));

    /// <inheritdoc />
    public void ImportSnapshot(ReadOnlyMemory<byte> snapshot, long snapshotLsn)
    {
        _ = DecodeSnapshot(snapshot.Span); // refuse an undecodable snapshot before changing anything
        Append(new Entry(EntryKind.SnapshotImport, Data: snapshot.ToArray(), Lsn: snapshotLsn));
    }

    // ---- ISyncLeaderStore ----

    /// <inheritdoc />
    public long HeadLsn => _firstLsn - 1 + _log.Count;

    /// <inheritdoc />
    public long DurableLsn => _durableLsn;

    /// <inheritdoc />
    public long FirstLsn => _firstLsn;

    /// <inheritdoc />
    public long PurgedLsn => _purgedLsn;

    /// <inheritdoc />
    public long GetAppliedSeq(ulong origin) => _vector.GetValueOrDefault(origin);

    /// <inheritdoc />
    public long GetDurableSeq(ulong origin)
    {
        if (!_originLsns.TryGetValue(origin, out List<long>? lsns))
        {
            return 0;
        }

        // Sequences of one origin occupy increasing LSNs: binary search the last one at or below durable.
        int lo = 0, hi = lsns.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (lsns[mid] <= _durableLsn)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <inheritdoc />
    public long Apply(in SyncOp op)
    {
        if (!_isLeader)
        {
            throw new InvalidOperationException("Apply is the leader's path; a node applies through ApplyDownloaded.");
        }

        if (op.Seq != _vector.GetValueOrDefault(op.Origin) + 1)
        {
            throw new InvalidOperationException($"op ({op.Origin:X16}, {op.Seq}) does not follow the applied sequence {_vector.GetValueOrDefault(op.Origin)}");
        }

        Validate(op.Payload.Span);
        Append(new Entry(EntryKind.LeaderApply, op with { Payload = op.Payload.ToArray() }));
        return HeadLsn;
    }

    /// <inheritdoc />
    public long ReadLog(long afterLsn, long maxLsn, int maxCount, int maxPayloadBytes, List<SyncOp> destination)
    {
        maxLsn = Math.Min(maxLsn, HeadLsn);
        long lsn = Math.Max(afterLsn, _firstLsn - 1);
        long bytes = 0;
        int count = 0;
        while (lsn < maxLsn && count < maxCount)
        {
            SyncOp op = _log[(int)(lsn + 1 - _firstLsn)];
            if (count > 0 && bytes + op.Payload.Length > maxPayloadBytes)
            {
                break;
            }

            destination.Add(op);
            bytes += op.Payload.Length;
            count++;
            lsn++;
        }

        return lsn;
    }

    /// <inheritdoc />
    public SyncSnapshot ExportSnapshot()
    {
        if (_durableLsn == HeadLsn)
        {
            return new SyncSnapshot(_durableLsn, EncodeSnapshot());
        }

        // Only durable state may leave the leader: rebuild it from the durable journal prefix.
        var durable = new MemorySyncStore(ReplicaId, _isLeader, Durability);
        durable._journal.AddRange(_journal.GetRange(0, _durableCount));
        durable.Rebuild();
        return new SyncSnapshot(_durableLsn, durable.EncodeSnapshot());
    }

    /// <inheritdoc />
    public bool TryBindNode(string nodeName, ulong replicaId, out ulong boundReplicaId)
    {
        if (_bindings.TryGetValue(nodeName, out boundReplicaId))
        {
            return boundReplicaId == replicaId;
        }

        Append(new Entry(EntryKind.NodeBinding, Text: nodeName, Lsn: (long)replicaId));
        boundReplicaId = replicaId;
        return true;
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> BoundNodes => _bindings.Keys;

    /// <inheritdoc />
    public void PurgeTombstones(long upToLsn)
    {
        if (upToLsn > _purgedLsn)
        {
            Append(new Entry(EntryKind.Purge, Lsn: upToLsn));
        }
    }

    // ---- journal ----

    private void Append(Entry entry)
    {
        _journal.Add(entry);
        Replay(entry);
        if (Durability == MemoryDurability.Always)
        {
            Flush();
        }
    }

    private void Rebuild()
    {
        _ownOps.Clear();
        _vector.Clear();
        _counters.Clear();
        _registers.Clear();
        _log.Clear();
        _originLsns.Clear();
        _bindings.Clear();
        _snapshotChunks.Clear();
        _firstLsn = 1;
        _uploadCursor = 0;
        _downloadCursor = 0;
        _purgedLsn = 0;
        _lastHlc = 0;
        _nodeName = null;
        _pending = null;
        RemoteOpsApplied = 0;
        foreach (Entry entry in _journal)
        {
            Replay(entry);
        }

        _durableCount = _journal.Count;
        _durableLsn = HeadLsn;
        _durableOwnSeq = _ownOps.Count;
    }

    private void Replay(Entry entry)
    {
        switch (entry.Kind)
        {
            case EntryKind.Own:
                _ownOps.Add(entry.Op);
                ApplyToState(entry.Op);
                if (_isLeader)
                {
                    AppendToLog(entry.Op);
                }

                break;
            case EntryKind.LeaderApply:
                ApplyToState(entry.Op);
                AppendToLog(entry.Op);
                RemoteOpsApplied++;
                break;
            case EntryKind.Remote:
                foreach (SyncOp op in entry.Ops!)
                {
                    if (op.Seq == _vector.GetValueOrDefault(op.Origin) + 1)
                    {
                        ApplyToState(op);
                        RemoteOpsApplied++;
                    }
                }

                _downloadCursor = entry.Lsn;
                break;
            case EntryKind.UploadCursor:
                _uploadCursor = Math.Max(_uploadCursor, entry.Lsn);
                break;
            case EntryKind.BindName:
                _nodeName = entry.Text;
                break;
            case EntryKind.NodeBinding:
                _bindings[entry.Text!] = (ulong)entry.Lsn;
                break;
            case EntryKind.SnapshotBegin:
                _pending = entry.Transfer;
                _snapshotChunks.Clear();
                break;
            case EntryKind.SnapshotChunk:
                _snapshotChunks.Add(entry.Data!);
                _pending = _pending! with { NextChunk = _pending.NextChunk + 1 };
                break;
            case EntryKind.SnapshotDiscard:
                _pending = null;
                _snapshotChunks.Clear();
                break;
            case EntryKind.SnapshotImport:
                LoadSnapshot(entry.Data!);
                _downloadCursor = entry.Lsn;
                _pending = null;
                _snapshotChunks.Clear();
                break;
            case EntryKind.Purge:
                _purgedLsn = entry.Lsn;
                foreach (string key in _registers.Where(r => r.Value.Deleted && r.Value.Lsn <= entry.Lsn).Select(r => r.Key).ToList())
                {
                    _registers.Remove(key);
                }

                break;
            case EntryKind.Prune:
                int drop = (int)(entry.Lsn - _firstLsn + 1);
                _log.RemoveRange(0, drop);
                _firstLsn = entry.Lsn + 1;
                break;
        }
    }

    private void AppendToLog(SyncOp op)
    {
        long lsn = HeadLsn + 1;
        _log.Add(op with { Lsn = lsn });
        if (!_originLsns.TryGetValue(op.Origin, out List<long>? lsns))
        {
            lsns = [];
            _originLsns[op.Origin] = lsns;
        }

        lsns.Add(lsn);
    }

    private void ApplyToState(SyncOp op)
    {
        _vector[op.Origin] = op.Seq;
        _lastHlc = Math.Max(_lastHlc, op.Hlc);
        ReadOnlySpan<byte> p = op.Payload.Span;
        string key = Encoding.UTF8.GetString(p.Slice(2, p[1]));
        switch (p[0])
        {
            case KindAdd:
                if (!_counters.TryGetValue(key, out Dictionary<ulong, long>? perOrigin))
                {
                    perOrigin = [];
                    _counters[key] = perOrigin;
                }

                perOrigin[op.Origin] = perOrigin.GetValueOrDefault(op.Origin) + BinaryPrimitives.ReadInt64LittleEndian(p[(2 + p[1])..]);
                break;
            default:
                bool deleted = p[0] == KindDelete;
                string value = deleted ? "" : Encoding.UTF8.GetString(p[(4 + p[1])..]);
                long lsn = HeadLsn + (_isLeader ? 1 : 0);
                if (!_registers.TryGetValue(key, out Register existing) || (op.Hlc, op.Origin).CompareTo((existing.Hlc, existing.Origin)) > 0)
                {
                    _registers[key] = new Register(value, op.Hlc, op.Origin, deleted, lsn);
                }

                break;
        }
    }

    private static void Validate(ReadOnlySpan<byte> p)
    {
        bool ok = p.Length >= 2 && p[1] > 0 && p.Length >= 2 + p[1] && System.Text.Unicode.Utf8.IsValid(p.Slice(2, p[1])) && p[0] switch
        {
            KindAdd => p.Length == 2 + p[1] + 8,
            KindSet => p.Length >= 4 + p[1] && p.Length == 4 + p[1] + BinaryPrimitives.ReadUInt16LittleEndian(p[(2 + p[1])..]) && System.Text.Unicode.Utf8.IsValid(p[(4 + p[1])..]),
            KindDelete => p.Length == 2 + p[1],
            _ => false,
        };
        if (!ok)
        {
            SyncProtocolException.Throw(SyncProtocolErrorCode.OpRejected, $"op payload of {p.Length} bytes (kind {(p.IsEmpty ? -1 : p[0])}) is not a valid add, set or delete");
        }
    }

    private static byte[] KeyBytes(string key)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(key);
        if (bytes.Length is 0 or > 255)
        {
            throw new ArgumentException($"key must be 1-255 UTF-8 bytes; '{key}' is {bytes.Length}", nameof(key));
        }

        return bytes;
    }

    private byte[] EncodeSnapshot()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(_vector.Count);
            foreach ((ulong origin, long seq) in _vector.OrderBy(e => e.Key))
            {
                w.Write(origin);
                w.Write(seq);
            }

            w.Write(_counters.Count);
            foreach ((string key, Dictionary<ulong, long> perOrigin) in _counters.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                w.Write(key);
                w.Write(perOrigin.Count);
                foreach ((ulong origin, long value) in perOrigin.OrderBy(e => e.Key))
                {
                    w.Write(origin);
                    w.Write(value);
                }
            }

            w.Write(_registers.Count);
            foreach ((string key, Register r) in _registers.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                w.Write(key);
                w.Write(r.Value);
                w.Write(r.Hlc);
                w.Write(r.Origin);
                w.Write(r.Deleted);
                w.Write(r.Lsn);
            }

            w.Write(_lastHlc);
        }

        return stream.ToArray();
    }

    private static DecodedSnapshot DecodeSnapshot(ReadOnlySpan<byte> data)
    {
        try
        {
            using var stream = new MemoryStream(data.ToArray(), writable: false);
            using var r = new BinaryReader(stream, Encoding.UTF8);
            var snapshot = new DecodedSnapshot();
            int vectorCount = r.ReadInt32();
            for (int i = 0; i < vectorCount; i++)
            {
                snapshot.Vector[r.ReadUInt64()] = r.ReadInt64();
            }

            int counterCount = r.ReadInt32();
            for (int i = 0; i < counterCount; i++)
            {
                string key = r.ReadString();
                int n = r.ReadInt32();
                var perOrigin = new Dictionary<ulong, long>();
                for (int j = 0; j < n; j++)
                {
                    perOrigin[r.ReadUInt64()] = r.ReadInt64();
                }

                snapshot.Counters[key] = perOrigin;
            }

            int registerCount = r.ReadInt32();
            for (int i = 0; i < registerCount; i++)
            {
                string key = r.ReadString();
                snapshot.Registers[key] = new Register(r.ReadString(), r.ReadUInt64(), r.ReadUInt64(), r.ReadBoolean(), r.ReadInt64());
            }

            snapshot.LastHlc = r.ReadUInt64();
            if (stream.Position != stream.Length)
            {
                SyncProtocolException.Throw(SyncProtocolErrorCode.StoreFailure, $"snapshot has {stream.Length - stream.Position} trailing bytes");
            }

            return snapshot;
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or FormatException or ArgumentException)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"snapshot of {data.Length} bytes cannot be decoded: {ex.Message}", ex);
        }
    }

    private void LoadSnapshot(byte[] data)
    {
        DecodedSnapshot snapshot = DecodeSnapshot(data);
        _vector.Clear();
        _counters.Clear();
        _registers.Clear();
        foreach ((ulong origin, long seq) in snapshot.Vector)
        {
            _vector[origin] = seq;
        }

        foreach ((string key, Dictionary<ulong, long> perOrigin) in snapshot.Counters)
        {
            _counters[key] = perOrigin;
        }

        foreach ((string key, Register register) in snapshot.Registers)
        {
            _registers[key] = register;
        }

        _lastHlc = Math.Max(_lastHlc, snapshot.LastHlc);

        // Own ops the snapshot does not hold yet (not acknowledged, or acknowledged after it) stay applied.
        long held = _vector.GetValueOrDefault(ReplicaId);
        for (long seq = held + 1; seq <= _ownOps.Count; seq++)
        {
            ApplyToState(_ownOps[(int)(seq - 1)]);
        }
    }

    private enum EntryKind : byte
    {
        Own,
        LeaderApply,
        Remote,
        UploadCursor,
        BindName,
        NodeBinding,
        SnapshotBegin,
        SnapshotChunk,
        SnapshotDiscard,
        SnapshotImport,
        Purge,
        Prune,
    }

    private readonly record struct Entry(EntryKind Kind, SyncOp Op = default, SyncOp[]? Ops = null, long Lsn = 0, string? Text = null, byte[]? Data = null, SnapshotTransfer? Transfer = null);

    private readonly record struct Register(string Value, ulong Hlc, ulong Origin, bool Deleted, long Lsn);

    private sealed class DecodedSnapshot
    {
        public Dictionary<ulong, long> Vector { get; } = [];

        public Dictionary<string, Dictionary<ulong, long>> Counters { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Register> Registers { get; } = new(StringComparer.Ordinal);

        public ulong LastHlc { get; set; }
    }
}
