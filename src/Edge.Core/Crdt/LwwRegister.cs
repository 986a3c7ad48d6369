using System.Buffers;
using CortexEdge.Core.Clocks;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// Last-writer-wins register: the write with the greatest <see cref="HlcTimestamp"/> (HLC, then
/// replica id) holds. The state also keeps <see cref="Observed"/>, the timestamp the winning write
/// overwrote on its own replica; a merge that discards a write the winner had not observed counts
/// it in <see cref="CrdtMergeOutcome.DiscardedWrites"/> (a concurrent write lost). A register can
/// be cleared (a timestamped "no value"), which is how <see cref="LwwMap{TKey, TValue}"/> deletes.
/// The delta of a write is the whole register (one value and two timestamps). Not thread-safe.
/// </summary>
/// <typeparam name="T">The value type.</typeparam>
public sealed class LwwRegister<T> : IDeltaCrdt<LwwRegister<T>>
    where T : notnull
{
    private readonly CrdtValueCodec<T> _codec;
    private T? _value;

    /// <summary>Creates a register nobody has written.</summary>
    public LwwRegister(CrdtValueCodec<T> codec)
    {
        _codec = codec;
    }

    /// <summary>True when the latest write stored a value (false when never written or cleared).</summary>
    public bool HasValue { get; private set; }

    /// <summary>The value of the latest write; <see cref="InvalidOperationException"/> when <see cref="HasValue"/> is false.</summary>
    /// <exception cref="InvalidOperationException">The register holds no value.</exception>
    public T Value => HasValue ? _value! : throw new InvalidOperationException("the register holds no value");

    /// <summary>Timestamp of the latest write (<see cref="HlcTimestamp.Zero"/> when never written).</summary>
    public HlcTimestamp Timestamp { get; private set; }

    /// <summary>Timestamp of the write the latest write overwrote on its replica (what it had observed).</summary>
    public HlcTimestamp Observed { get; private set; }

    /// <summary>The codec of the values.</summary>
    public CrdtValueCodec<T> Codec => _codec;

    /// <summary>Returns the value when there is one.</summary>
    public bool TryGetValue(out T value)
    {
        value = _value!;
        return HasValue;
    }

    /// <summary>Writes <paramref name="value"/> at <paramref name="timestamp"/> and returns the delta to ship.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtTimestampNotAfter"/> when <paramref name="timestamp"/> is not after <see cref="Timestamp"/>.</exception>
    public LwwRegister<T> Set(T value, HlcTimestamp timestamp)
    {
        ArgumentNullException.ThrowIfNull(value);
        Assign(true, value, timestamp);
        return Clone();
    }

    /// <summary>Clears the register at <paramref name="timestamp"/> (a write of "no value") and returns the delta.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtTimestampNotAfter"/> when <paramref name="timestamp"/> is not after <see cref="Timestamp"/>.</exception>
    public LwwRegister<T> Clear(HlcTimestamp timestamp)
    {
        Assign(false, default, timestamp);
        return Clone();
    }

    /// <inheritdoc />
    public CrdtMergeOutcome Merge(LwwRegister<T> other)
    {
        int order = other.Timestamp.CompareTo(Timestamp);
        if (order == 0)
        {
            // Equal timestamps come from one write, so the states are equal; a clock that repeats a
            // timestamp is broken, and the tiebreak on content still keeps merge a join.
            if (CompareContent(other) >= 0)
            {
                return CrdtMergeOutcome.Unchanged;
            }

            CopyFrom(other);
            return new CrdtMergeOutcome(true, 0, 0);
        }

        if (order > 0)
        {
            int discarded = IsConcurrentLoss(Timestamp, HasValue, _value, other) ? 1 : 0;
            CopyFrom(other);
            return new CrdtMergeOutcome(true, discarded, 0);
        }

        return new CrdtMergeOutcome(false, IsConcurrentLoss(other.Timestamp, other.HasValue, other._value, this) ? 1 : 0, 0);
    }

    /// <inheritdoc />
    public LwwRegister<T> Clone()
    {
        var copy = new LwwRegister<T>(_codec);
        copy.CopyFrom(this);
        return copy;
    }

    /// <inheritdoc />
    public bool StateEquals(LwwRegister<T> other) => Timestamp == other.Timestamp && CompareContent(other) == 0;

    /// <summary>
    /// Encoding: header, then a flags byte (bit 0: has a value; bit 1: observed something), the
    /// timestamp (varint HLC, fixed 8-byte replica), when observed the HLC distance back to the
    /// observed write (varint) and its replica (8 bytes), then the value.
    /// </summary>
    public void Encode(IBufferWriter<byte> output)
    {
        var writer = new CrdtWriter(output);
        CrdtEncoding.WriteHeader(ref writer, CrdtKind.LwwRegister);
        WriteBody(ref writer);
    }

    /// <summary>Decodes an encoding written by <see cref="Encode"/>.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtMalformed"/> naming the offset.</exception>
    public static LwwRegister<T> Decode(ReadOnlySpan<byte> encoded, CrdtValueCodec<T> codec)
    {
        var reader = new CrdtReader(encoded);
        reader.ReadHeader(CrdtKind.LwwRegister);
        LwwRegister<T> register = ReadBody(ref reader, codec);
        reader.ReadEnd();
        return register;
    }

    internal void WriteBody(ref CrdtWriter writer)
    {
        bool observed = Observed != HlcTimestamp.Zero;
        writer.WriteByte((byte)((HasValue ? 1 : 0) | (observed ? 2 : 0)));
        writer.WriteTimestamp(Timestamp);
        if (observed)
        {
            writer.WriteVarUInt64(Timestamp.Time - Observed.Time);
            writer.WriteUInt64(Observed.ReplicaId);
        }

        if (HasValue)
        {
            _codec.Write(ref writer, _value!);
        }
    }

    internal static LwwRegister<T> ReadBody(ref CrdtReader reader, CrdtValueCodec<T> codec)
    {
        int start = reader.Offset;
        byte flags = reader.ReadByte();
        if (flags > 3)
        {
            reader.Fail($"unknown register flags 0x{flags:x2}", start);
        }

        var register = new LwwRegister<T>(codec) { Timestamp = reader.ReadTimestamp() };
        if ((flags & 2) != 0)
        {
            int observedOffset = reader.Offset;
            ulong distance = reader.ReadVarUInt64();
            ulong replica = reader.ReadUInt64();
            if (distance > register.Timestamp.Time)
            {
                reader.Fail("observed timestamp lies before time zero", observedOffset);
            }

            register.Observed = new HlcTimestamp(register.Timestamp.Time - distance, replica);
            if (register.Observed == HlcTimestamp.Zero || register.Observed >= register.Timestamp)
            {
                reader.Fail("observed timestamp is zero or not before the write's timestamp", observedOffset);
            }
        }

        if (register.Timestamp == HlcTimestamp.Zero && flags != 0)
        {
            reader.Fail("a never-written register carries a value or an observed timestamp", start);
        }

        if ((flags & 1) != 0)
        {
            register._value = codec.Read(ref reader);
            register.HasValue = true;
        }

        return register;
    }

    /// <inheritdoc />
    public override string ToString() => HasValue ? $"LwwRegister {_value} @ {Timestamp}" : $"LwwRegister (none) @ {Timestamp}";

    private void Assign(bool hasValue, T? value, HlcTimestamp timestamp)
    {
        if (timestamp <= Timestamp)
        {
            throw new EdgeException(EdgeErrorCode.CrdtTimestampNotAfter, $"write timestamp {timestamp} is not after the register's {Timestamp}");
        }

        Observed = Timestamp;
        Timestamp = timestamp;
        HasValue = hasValue;
        _value = value;
    }

    private void CopyFrom(LwwRegister<T> other)
    {
        Timestamp = other.Timestamp;
        Observed = other.Observed;
        HasValue = other.HasValue;
        _value = other._value;
    }

    // The loser (timestamp, content) was concurrent with the winner when the winner's writer had
    // not observed it (its overwritten timestamp is older). Losing an equal value loses nothing.
    private bool IsConcurrentLoss(HlcTimestamp loserTimestamp, bool loserHasValue, T? loserValue, LwwRegister<T> winner)
    {
        if (loserTimestamp == HlcTimestamp.Zero || winner.Observed >= loserTimestamp)
        {
            return false;
        }

        if (loserHasValue != winner.HasValue)
        {
            return true;
        }

        return loserHasValue && !_codec.Equals(loserValue!, winner._value!);
    }

    private int CompareContent(LwwRegister<T> other)
    {
        int byObserved = Observed.CompareTo(other.Observed);
        if (byObserved != 0)
        {
            return byObserved;
        }

        if (HasValue != other.HasValue)
        {
            return HasValue ? 1 : -1;
        }

        return HasValue ? _codec.Compare(_value!, other._value!) : 0;
    }
}
