using System.Buffers.Binary;
using CortexEdge.Core.Binary;

namespace CortexEdge.Core.Clocks;

/// <summary>How two version vectors relate.</summary>
public enum VersionVectorOrder
{
    /// <summary>Both hold exactly the same ops.</summary>
    Equal,

    /// <summary>The left vector is strictly contained in the right one.</summary>
    Before,

    /// <summary>The left vector strictly contains the right one.</summary>
    After,

    /// <summary>Each holds ops the other lacks.</summary>
    Concurrent,
}

/// <summary>
/// Maps each origin replica id to the highest origin sequence applied from it, where everything up
/// to that sequence has been applied (a contiguous prefix of the origin's op stream). An origin not
/// present holds sequence 0 (nothing applied). Deltas between nodes are "every op after your vector".
/// </summary>
/// <remarks>
/// Not thread-safe: callers that share one synchronize. Encoding (<see cref="Encode"/>): LEB128
/// entry count, then per entry in ascending replica id order the replica id (8 bytes, little
/// endian) and the sequence (LEB128); origins at 0 are not written, so equal vectors encode equally.
/// </remarks>
public sealed class VersionVector : IEquatable<VersionVector>
{
    /// <summary>Largest number of origins a decoded vector may hold (a bound against hostile input).</summary>
    public const int EntryCountMax = 1 << 16;

    private readonly Dictionary<ulong, ulong> _entries;

    /// <summary>Creates an empty vector.</summary>
    public VersionVector()
    {
        _entries = [];
    }

    private VersionVector(Dictionary<ulong, ulong> entries)
    {
        _entries = entries;
    }

    /// <summary>Number of origins with a non-zero sequence.</summary>
    public int Count => _entries.Count;

    /// <summary>The origins and their sequences, in no particular order.</summary>
    public IEnumerable<KeyValuePair<ulong, ulong>> Entries => _entries;

    /// <summary>Highest contiguous sequence applied from <paramref name="originReplicaId"/> (0 if none).</summary>
    public ulong this[ulong originReplicaId] => _entries.TryGetValue(originReplicaId, out ulong sequence) ? sequence : 0;

    /// <summary>
    /// Records that op <paramref name="sequence"/> of <paramref name="originReplicaId"/> was applied,
    /// if it extends the contiguous prefix.
    /// </summary>
    /// <returns>true when <paramref name="sequence"/> is exactly one past the current value (the vector advanced);
    /// false for a duplicate (at or below) or a gap (more than one past), which leaves the vector unchanged.</returns>
    public bool TryAdvance(ulong originReplicaId, ulong sequence)
    {
        ulong current = this[originReplicaId];
        if (sequence != current + 1)
        {
            return false;
        }

        _entries[originReplicaId] = sequence;
        return true;
    }

    /// <summary>Raises the origin's sequence to at least <paramref name="sequence"/> (never lowers it).</summary>
    public void AdvanceTo(ulong originReplicaId, ulong sequence)
    {
        if (sequence > this[originReplicaId])
        {
            _entries[originReplicaId] = sequence;
        }
    }

    /// <summary>Pointwise maximum: afterwards this vector dominates both itself and <paramref name="other"/>.</summary>
    public void Merge(VersionVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (KeyValuePair<ulong, ulong> entry in other._entries)
        {
            AdvanceTo(entry.Key, entry.Value);
        }
    }

    /// <summary>true when this vector holds every op <paramref name="other"/> holds (pointwise &gt;=).</summary>
    public bool Dominates(VersionVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (KeyValuePair<ulong, ulong> entry in other._entries)
        {
            if (this[entry.Key] < entry.Value)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Compares the op sets the two vectors stand for.</summary>
    public VersionVectorOrder Compare(VersionVector other)
    {
        bool thisCoversOther = Dominates(other);
        bool otherCoversThis = other.Dominates(this);
        return (thisCoversOther, otherCoversThis) switch
        {
            (true, true) => VersionVectorOrder.Equal,
            (true, false) => VersionVectorOrder.After,
            (false, true) => VersionVectorOrder.Before,
            _ => VersionVectorOrder.Concurrent,
        };
    }

    /// <summary>A deep copy.</summary>
    public VersionVector Clone() => new(new Dictionary<ulong, ulong>(_entries));

    /// <summary>Size in bytes of <see cref="Encode"/>'s output.</summary>
    public int EncodedSize
    {
        get
        {
            int size = VarInt.SizeOf((ulong)_entries.Count);
            foreach (ulong sequence in _entries.Values)
            {
                size += sizeof(ulong) + VarInt.SizeOf(sequence);
            }

            return size;
        }
    }

    /// <summary>Writes the canonical encoding; returns the bytes written.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="EncodedSize"/>.</exception>
    public int Encode(Span<byte> destination)
    {
        int size = EncodedSize;
        if (destination.Length < size)
        {
            throw new ArgumentException($"The version vector needs {size} bytes; the destination has {destination.Length}.", nameof(destination));
        }

        ulong[] origins = [.. _entries.Keys];
        Array.Sort(origins);
        int offset = VarInt.Write(destination, (ulong)origins.Length);
        foreach (ulong origin in origins)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[offset..], origin);
            offset += sizeof(ulong);
            offset += VarInt.Write(destination[offset..], _entries[origin]);
        }

        return offset;
    }

    /// <summary>The canonical encoding as a new array.</summary>
    public byte[] ToArray()
    {
        byte[] bytes = new byte[EncodedSize];
        Encode(bytes);
        return bytes;
    }

    /// <summary>Decodes a vector written by <see cref="Encode"/>, consuming all of <paramref name="source"/>.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VersionVectorMalformed"/>: truncated input, trailing bytes,
    /// more than <see cref="EntryCountMax"/> entries, origins out of order or repeated, or a zero sequence.</exception>
    public static VersionVector Decode(ReadOnlySpan<byte> source)
    {
        // The encoding is canonical (one encoding per vector): overlong varints are refused too.
        if (!VarInt.TryRead(source, out ulong count, out int offset) || offset != VarInt.SizeOf(count))
        {
            throw Malformed("the entry count is truncated, too large or not minimally encoded", 0);
        }

        if (count > EntryCountMax)
        {
            throw Malformed($"{count} entries exceed the limit of {EntryCountMax}", 0);
        }

        // Each entry takes at least 9 bytes; reject impossible counts before allocating.
        if (count > (ulong)(source.Length - offset) / (sizeof(ulong) + 1))
        {
            throw Malformed($"{count} entries cannot fit in {source.Length} bytes", offset);
        }

        var entries = new Dictionary<ulong, ulong>((int)count);
        ulong previous = 0;
        for (ulong index = 0; index < count; index++)
        {
            if (source.Length - offset < sizeof(ulong))
            {
                throw Malformed($"entry {index} is truncated", offset);
            }

            ulong origin = BinaryPrimitives.ReadUInt64LittleEndian(source[offset..]);
            if (index > 0 && origin <= previous)
            {
                throw Malformed($"entry {index} origin {origin:x16} is not above the previous {previous:x16}", offset);
            }

            offset += sizeof(ulong);
            if (!VarInt.TryRead(source[offset..], out ulong sequence, out int read) || read != VarInt.SizeOf(sequence))
            {
                throw Malformed($"entry {index} sequence is truncated, too large or not minimally encoded", offset);
            }

            if (sequence == 0)
            {
                throw Malformed($"entry {index} has sequence 0, which is never written", offset);
            }

            offset += read;
            entries.Add(origin, sequence);
            previous = origin;
        }

        if (offset != source.Length)
        {
            throw Malformed($"{source.Length - offset} trailing bytes", offset);
        }

        return new VersionVector(entries);
    }

    /// <inheritdoc/>
    public bool Equals(VersionVector? other) => other is not null && Compare(other) == VersionVectorOrder.Equal;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is VersionVector other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        ulong hash = 0;
        foreach (KeyValuePair<ulong, ulong> entry in _entries)
        {
            hash ^= (ulong)HashCode.Combine(entry.Key, entry.Value); // order-independent
        }

        return hash.GetHashCode();
    }

    /// <summary>Formats as "{origin:seq, ...}" in origin order.</summary>
    public override string ToString() =>
        "{" + string.Join(", ", _entries.OrderBy(e => e.Key).Select(e => $"{e.Key:x16}:{e.Value}")) + "}";

    private static EdgeException Malformed(string detail, int offset) =>
        new(EdgeErrorCode.VersionVectorMalformed, $"Version vector encoding is malformed at byte {offset}: {detail}.");
}
