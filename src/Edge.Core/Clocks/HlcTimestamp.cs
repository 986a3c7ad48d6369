using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CortexEdge.Core.Clocks;

/// <summary>
/// A hybrid logical clock timestamp: wall-clock milliseconds since the Unix epoch (48 bits), a
/// logical counter (16 bits) that orders events within one millisecond, and the replica id of the
/// clock that issued it, which breaks ties so that two timestamps from different replicas are never
/// equal. Ordering is (physical, logical, replica id); last-writer-wins compares timestamps this way.
/// </summary>
/// <remarks>
/// Encoded as <see cref="EncodedBytes"/> bytes, little endian: the packed time (physical &lt;&lt; 16 |
/// logical) then the replica id. Immutable and thread-safe.
/// </remarks>
[StructLayout(LayoutKind.Auto)]
public readonly struct HlcTimestamp : IEquatable<HlcTimestamp>, IComparable<HlcTimestamp>
{
    /// <summary>Size of the binary encoding in bytes.</summary>
    public const int EncodedBytes = 16;

    /// <summary>Number of low bits of <see cref="Time"/> that hold the logical counter.</summary>
    public const int LogicalBits = 16;

    /// <summary>Largest logical counter value; the clock carries into the physical part past it.</summary>
    public const int LogicalMax = (1 << LogicalBits) - 1;

    /// <summary>Largest physical time in milliseconds that fits the 48-bit field.</summary>
    public const long PhysicalMillisecondsMax = (1L << (64 - LogicalBits)) - 1;

    /// <summary>Creates a timestamp from its packed time and the issuing replica.</summary>
    /// <param name="time">Physical milliseconds shifted left by <see cref="LogicalBits"/>, or-ed with the logical counter.</param>
    /// <param name="replicaId">The replica whose clock issued the timestamp.</param>
    public HlcTimestamp(ulong time, ulong replicaId)
    {
        Time = time;
        ReplicaId = replicaId;
    }

    /// <summary>The zero timestamp, ordered before every issued timestamp.</summary>
    public static HlcTimestamp Zero => default;

    /// <summary>Packed time: physical milliseconds in the high 48 bits, the logical counter in the low 16.</summary>
    public ulong Time { get; }

    /// <summary>The replica whose clock issued this timestamp (tie breaker).</summary>
    public ulong ReplicaId { get; }

    /// <summary>Wall-clock milliseconds since the Unix epoch.</summary>
    public long PhysicalMilliseconds => (long)(Time >> LogicalBits);

    /// <summary>Logical counter within <see cref="PhysicalMilliseconds"/>.</summary>
    public int Logical => (int)(Time & LogicalMax);

    /// <summary>Creates a timestamp from its parts.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A part is negative or does not fit its field.</exception>
    public static HlcTimestamp Create(long physicalMilliseconds, int logical, ulong replicaId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(physicalMilliseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(physicalMilliseconds, PhysicalMillisecondsMax);
        ArgumentOutOfRangeException.ThrowIfNegative(logical);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(logical, LogicalMax);
        return new HlcTimestamp(((ulong)physicalMilliseconds << LogicalBits) | (uint)logical, replicaId);
    }

    /// <summary>Writes the <see cref="EncodedBytes"/>-byte encoding.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="EncodedBytes"/>.</exception>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < EncodedBytes)
        {
            throw new ArgumentException($"An HLC timestamp needs {EncodedBytes} bytes; the destination has {destination.Length}.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64LittleEndian(destination, Time);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], ReplicaId);
    }

    /// <summary>Reads a timestamp from the start of <paramref name="source"/>.</summary>
    /// <returns>false when <paramref name="source"/> is shorter than <see cref="EncodedBytes"/>.</returns>
    public static bool TryRead(ReadOnlySpan<byte> source, out HlcTimestamp timestamp)
    {
        if (source.Length < EncodedBytes)
        {
            timestamp = default;
            return false;
        }

        timestamp = new HlcTimestamp(BinaryPrimitives.ReadUInt64LittleEndian(source), BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));
        return true;
    }

    /// <summary>Reads a timestamp from the start of <paramref name="source"/>.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.HlcMalformed"/>: fewer than <see cref="EncodedBytes"/> bytes.</exception>
    public static HlcTimestamp Read(ReadOnlySpan<byte> source)
    {
        if (!TryRead(source, out HlcTimestamp timestamp))
        {
            throw new EdgeException(EdgeErrorCode.HlcMalformed, $"An HLC timestamp needs {EncodedBytes} bytes; got {source.Length}.");
        }

        return timestamp;
    }

    /// <inheritdoc/>
    public int CompareTo(HlcTimestamp other)
    {
        int byTime = Time.CompareTo(other.Time);
        return byTime != 0 ? byTime : ReplicaId.CompareTo(other.ReplicaId);
    }

    /// <inheritdoc/>
    public bool Equals(HlcTimestamp other) => Time == other.Time && ReplicaId == other.ReplicaId;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is HlcTimestamp other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Time, ReplicaId);

    /// <summary>Formats as "physical.logical@replica" (replica in hex).</summary>
    public override string ToString() => $"{PhysicalMilliseconds}.{Logical}@{ReplicaId:x16}";

    /// <summary>Equality.</summary>
    public static bool operator ==(HlcTimestamp left, HlcTimestamp right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(HlcTimestamp left, HlcTimestamp right) => !left.Equals(right);

    /// <summary>Ordering.</summary>
    public static bool operator <(HlcTimestamp left, HlcTimestamp right) => left.CompareTo(right) < 0;

    /// <summary>Ordering.</summary>
    public static bool operator >(HlcTimestamp left, HlcTimestamp right) => left.CompareTo(right) > 0;

    /// <summary>Ordering.</summary>
    public static bool operator <=(HlcTimestamp left, HlcTimestamp right) => left.CompareTo(right) <= 0;

    /// <summary>Ordering.</summary>
    public static bool operator >=(HlcTimestamp left, HlcTimestamp right) => left.CompareTo(right) >= 0;

    /// <summary>The later of two timestamps.</summary>
    public static HlcTimestamp Max(HlcTimestamp left, HlcTimestamp right) => left >= right ? left : right;
}
