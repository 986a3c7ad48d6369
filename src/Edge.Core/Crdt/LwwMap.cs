using System.Buffers;
using CortexEdge.Core.Clocks;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// Map of last-writer-wins registers, one per key: the default shape of a document. Writes to
/// different keys never conflict; writes to one key resolve by timestamp (HLC, then replica id).
/// Removing a key writes a timestamped tombstone (a cleared register) so an older concurrent write
/// cannot resurrect it; <see cref="PruneTombstones"/> drops tombstones once they are causally
/// stable. The delta of a write is a one-entry map. Not thread-safe.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class LwwMap<TKey, TValue> : IDeltaCrdt<LwwMap<TKey, TValue>>
    where TKey : notnull
    where TValue : notnull
{
    private readonly CrdtValueCodec<TKey> _keyCodec;
    private readonly CrdtValueCodec<TValue> _valueCodec;
    private readonly Dictionary<TKey, LwwRegister<TValue>> _entries;
    private int _liveCount;

    /// <summary>Creates an empty map.</summary>
    public LwwMap(CrdtValueCodec<TKey> keyCodec, CrdtValueCodec<TValue> valueCodec)
    {
        _keyCodec = keyCodec;
        _valueCodec = valueCodec;
        _entries = new Dictionary<TKey, LwwRegister<TValue>>(keyCodec);
    }

    /// <summary>Number of keys with a value.</summary>
    public int Count => _liveCount;

    /// <summary>Number of removed keys still kept as tombstones (metadata).</summary>
    public int TombstoneCount => _entries.Count - _liveCount;

    /// <summary>The keys with a value, in no particular order.</summary>
    public IEnumerable<TKey> Keys => _entries.Where(e => e.Value.HasValue).Select(e => e.Key);

    /// <summary>Returns the value of <paramref name="key"/> when it has one.</summary>
    public bool TryGetValue(TKey key, out TValue value)
    {
        if (_entries.TryGetValue(key, out LwwRegister<TValue>? register) && register.TryGetValue(out value))
        {
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>The register of <paramref name="key"/> (value or tombstone, with its timestamps), or null when the key was never written.</summary>
    public LwwRegister<TValue>? GetRegister(TKey key) => _entries.GetValueOrDefault(key);

    /// <summary>Writes <paramref name="value"/> under <paramref name="key"/> at <paramref name="timestamp"/> and returns the delta.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtTimestampNotAfter"/> when the key holds a newer write.</exception>
    public LwwMap<TKey, TValue> Set(TKey key, TValue value, HlcTimestamp timestamp)
    {
        ArgumentNullException.ThrowIfNull(key);
        LwwRegister<TValue> register = _entries.GetValueOrDefault(key) ?? new LwwRegister<TValue>(_valueCodec);
        bool had = register.HasValue;
        LwwRegister<TValue> registerDelta = register.Set(value, timestamp);
        _entries[key] = register;
        _liveCount += had ? 0 : 1;
        return SingleEntry(key, registerDelta);
    }

    /// <summary>Removes <paramref name="key"/> at <paramref name="timestamp"/> (a tombstone) and returns the delta.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtTimestampNotAfter"/> when the key holds a newer write.</exception>
    public LwwMap<TKey, TValue> Remove(TKey key, HlcTimestamp timestamp)
    {
        ArgumentNullException.ThrowIfNull(key);
        LwwRegister<TValue> register = _entries.GetValueOrDefault(key) ?? new LwwRegister<TValue>(_valueCodec);
        bool had = register.HasValue;
        LwwRegister<TValue> registerDelta = register.Clear(timestamp);
        _entries[key] = register;
        _liveCount -= had ? 1 : 0;
        return SingleEntry(key, registerDelta);
    }

    /// <summary>
    /// Drops tombstones older than <paramref name="stableBefore"/>. Safe only when every replica has
    /// merged every write stamped before it (causal stability, known to the sync layer): otherwise
    /// a late older write to a pruned key would reappear. Returns the number dropped.
    /// </summary>
    public int PruneTombstones(HlcTimestamp stableBefore)
    {
        List<TKey>? doomed = null;
        foreach (KeyValuePair<TKey, LwwRegister<TValue>> entry in _entries)
        {
            if (!entry.Value.HasValue && entry.Value.Timestamp < stableBefore)
            {
                (doomed ??= []).Add(entry.Key);
            }
        }

        foreach (TKey key in doomed ?? [])
        {
            _entries.Remove(key);
        }

        return doomed?.Count ?? 0;
    }

    /// <inheritdoc />
    public CrdtMergeOutcome Merge(LwwMap<TKey, TValue> other)
    {
        CrdtMergeOutcome outcome = CrdtMergeOutcome.Unchanged;
        foreach (KeyValuePair<TKey, LwwRegister<TValue>> entry in other._entries)
        {
            if (!_entries.TryGetValue(entry.Key, out LwwRegister<TValue>? mine))
            {
                _entries.Add(entry.Key, entry.Value.Clone());
                _liveCount += entry.Value.HasValue ? 1 : 0;
                outcome += new CrdtMergeOutcome(true, 0, 0);
                continue;
            }

            bool had = mine.HasValue;
            outcome += mine.Merge(entry.Value);
            _liveCount += (mine.HasValue ? 1 : 0) - (had ? 1 : 0);
        }

        return outcome;
    }

    /// <inheritdoc />
    public LwwMap<TKey, TValue> Clone()
    {
        var copy = new LwwMap<TKey, TValue>(_keyCodec, _valueCodec) { _liveCount = _liveCount };
        foreach (KeyValuePair<TKey, LwwRegister<TValue>> entry in _entries)
        {
            copy._entries.Add(entry.Key, entry.Value.Clone());
        }

        return copy;
    }

    /// <inheritdoc />
    public bool StateEquals(LwwMap<TKey, TValue> other)
    {
        if (_entries.Count != other._entries.Count)
        {
            return false;
        }

        foreach (KeyValuePair<TKey, LwwRegister<TValue>> entry in _entries)
        {
            if (!other._entries.TryGetValue(entry.Key, out LwwRegister<TValue>? theirs) || !entry.Value.StateEquals(theirs))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Encoding: header, varint entry count, then per key in codec order the key and the register
    /// body (as in <see cref="LwwRegister{T}.Encode"/> without its header).
    /// </summary>
    public void Encode(IBufferWriter<byte> output)
    {
        var writer = new CrdtWriter(output);
        CrdtEncoding.WriteHeader(ref writer, CrdtKind.LwwMap);
        writer.WriteVarUInt64((ulong)_entries.Count);
        TKey[] keys = [.. _entries.Keys];
        Array.Sort(keys, _keyCodec);
        foreach (TKey key in keys)
        {
            _keyCodec.Write(ref writer, key);
            _entries[key].WriteBody(ref writer);
        }
    }

    /// <summary>Decodes an encoding written by <see cref="Encode"/>.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtMalformed"/> naming the offset.</exception>
    public static LwwMap<TKey, TValue> Decode(ReadOnlySpan<byte> encoded, CrdtValueCodec<TKey> keyCodec, CrdtValueCodec<TValue> valueCodec)
    {
        var reader = new CrdtReader(encoded);
        reader.ReadHeader(CrdtKind.LwwMap);
        var map = new LwwMap<TKey, TValue>(keyCodec, valueCodec);
        int count = reader.ReadItemCount(11, "entry count");
        TKey? previous = default;
        for (int i = 0; i < count; i++)
        {
            int offset = reader.Offset;
            TKey key = keyCodec.Read(ref reader);
            if (i > 0 && keyCodec.Compare(previous, key) >= 0)
            {
                reader.Fail("map keys are not in strictly ascending order", offset);
            }

            previous = key;
            LwwRegister<TValue> register = LwwRegister<TValue>.ReadBody(ref reader, valueCodec);
            if (register.Timestamp == HlcTimestamp.Zero)
            {
                reader.Fail("map entry that was never written", offset);
            }

            map._entries.Add(key, register);
            map._liveCount += register.HasValue ? 1 : 0;
        }

        reader.ReadEnd();
        return map;
    }

    /// <inheritdoc />
    public override string ToString() => $"LwwMap {_liveCount} keys, {TombstoneCount} tombstones";

    private LwwMap<TKey, TValue> SingleEntry(TKey key, LwwRegister<TValue> register)
    {
        var delta = new LwwMap<TKey, TValue>(_keyCodec, _valueCodec) { _liveCount = register.HasValue ? 1 : 0 };
        delta._entries.Add(key, register);
        return delta;
    }
}
