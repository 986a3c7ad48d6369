using System.Diagnostics;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// A set of <see cref="Dot"/>s stored per replica as sorted, disjoint, non-adjacent counter
/// intervals. It is the causal context of <see cref="MvRegister{T}"/> and
/// <see cref="AddWinsSet{T}"/> and the tombstone set of <see cref="OrSet{T}"/>. Compaction is
/// structural: contiguous dots coalesce into one interval, so a context that has seen every event
/// of a replica is one interval (a version-vector entry) however many events there were; holes
/// exist only for events not yet delivered (or, as OR-Set tombstones, for tags still live).
/// Not thread-safe.
/// </summary>
public sealed class DotSet
{
    /// <summary>Largest counter a dot may carry; keeps interval arithmetic clear of overflow.</summary>
    public const ulong CounterMax = 1UL << 62;

    // Replica -> intervals sorted by Start, disjoint and non-adjacent (a.End + 1 < b.Start).
    private readonly Dictionary<ulong, List<DotInterval>> _intervals = [];

    /// <summary>True when the set holds no dot.</summary>
    public bool IsEmpty => _intervals.Count == 0;

    /// <summary>Number of replicas with at least one dot.</summary>
    public int ReplicaCount => _intervals.Count;

    /// <summary>Number of intervals over all replicas: the size of the metadata, independent of how many dots they cover.</summary>
    public int IntervalCount
    {
        get
        {
            int count = 0;
            foreach (List<DotInterval> list in _intervals.Values)
            {
                count += list.Count;
            }

            return count;
        }
    }

    /// <summary>Number of dots covered (may be large; intervals are what is stored).</summary>
    public ulong DotCount
    {
        get
        {
            ulong count = 0;
            foreach (List<DotInterval> list in _intervals.Values)
            {
                foreach (DotInterval interval in list)
                {
                    count += interval.End - interval.Start + 1;
                }
            }

            return count;
        }
    }

    /// <summary>The highest counter of <paramref name="replica"/> in the set, 0 when it has none.</summary>
    public ulong Max(ulong replica) => _intervals.TryGetValue(replica, out List<DotInterval>? list) ? list[^1].End : 0;

    /// <summary>True when the set holds <paramref name="dot"/>.</summary>
    public bool Contains(Dot dot)
    {
        if (!_intervals.TryGetValue(dot.Replica, out List<DotInterval>? list))
        {
            return false;
        }

        int index = FirstEndingAtOrAfter(list, dot.Counter);
        return index < list.Count && list[index].Start <= dot.Counter;
    }

    /// <summary>Adds <paramref name="dot"/>; returns false when it was already present.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The counter is 0 or above <see cref="CounterMax"/>.</exception>
    public bool Add(Dot dot) => AddInterval(dot.Replica, dot.Counter, dot.Counter);

    /// <summary>Adds the dots <paramref name="start"/>..<paramref name="end"/> (inclusive) of <paramref name="replica"/>; returns true when any was new.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty, starts at 0 or ends above <see cref="CounterMax"/>.</exception>
    public bool AddInterval(ulong replica, ulong start, ulong end)
    {
        if (start == 0 || end < start || end > CounterMax)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"dot interval {start}..{end} must satisfy 1 <= start <= end <= {CounterMax}");
        }

        if (!_intervals.TryGetValue(replica, out List<DotInterval>? list))
        {
            _intervals.Add(replica, [new DotInterval(start, end)]);
            return true;
        }

        // Intervals touching [start, end] (overlapping or adjacent) are lo..hi; they fuse into one.
        int lo = FirstEndingAtOrAfter(list, start - 1);
        int hi = lo - 1;
        while (hi + 1 < list.Count && list[hi + 1].Start <= end + 1)
        {
            hi++;
        }

        if (lo > hi)
        {
            list.Insert(lo, new DotInterval(start, end));
            AssertInvariants(list);
            return true;
        }

        if (lo == hi && list[lo].Start <= start && list[lo].End >= end)
        {
            return false;
        }

        var fused = new DotInterval(Math.Min(start, list[lo].Start), Math.Max(end, list[hi].End));
        list.RemoveRange(lo + 1, hi - lo);
        list[lo] = fused;
        AssertInvariants(list);
        return true;
    }

    /// <summary>Adds every dot of <paramref name="other"/>; returns true when any was new.</summary>
    public bool UnionWith(DotSet other)
    {
        bool changed = false;
        foreach (KeyValuePair<ulong, List<DotInterval>> entry in other._intervals)
        {
            foreach (DotInterval interval in entry.Value)
            {
                changed |= AddInterval(entry.Key, interval.Start, interval.End);
            }
        }

        return changed;
    }

    /// <summary>Enumerates every dot (use only where <see cref="DotCount"/> is known to be small).</summary>
    public IEnumerable<Dot> EnumerateDots()
    {
        foreach (KeyValuePair<ulong, List<DotInterval>> entry in _intervals)
        {
            foreach (DotInterval interval in entry.Value)
            {
                for (ulong counter = interval.Start; counter <= interval.End; counter++)
                {
                    yield return new Dot(entry.Key, counter);
                }
            }
        }
    }

    /// <summary>True when <paramref name="dotCountMax"/> or fewer dots are covered, without summing every interval.</summary>
    public bool HasAtMostDots(ulong dotCountMax)
    {
        ulong count = 0;
        foreach (List<DotInterval> list in _intervals.Values)
        {
            foreach (DotInterval interval in list)
            {
                count += interval.End - interval.Start + 1;
                if (count > dotCountMax)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>The replica ids with dots, ascending: the replica table that dots are encoded against (<see cref="WriteDot"/>).</summary>
    public ulong[] SortedReplicaIds()
    {
        ulong[] replicas = [.. _intervals.Keys];
        Array.Sort(replicas);
        return replicas;
    }

    /// <summary>Appends a dot as its replica's index in <paramref name="replicaTable"/> (ascending ids) and its counter, two varints: 2-4 bytes instead of 9-18.</summary>
    /// <exception cref="InvalidOperationException">The dot's replica is not in the table (a broken invariant).</exception>
    public static void WriteDot(ref CrdtWriter writer, Dot dot, ulong[] replicaTable)
    {
        int index = Array.BinarySearch(replicaTable, dot.Replica);
        if (index < 0)
        {
            throw new InvalidOperationException($"dot {dot} has a replica missing from the replica table");
        }

        writer.WriteVarUInt64((ulong)index);
        writer.WriteVarUInt64(dot.Counter);
    }

    /// <summary>Reads a dot written by <see cref="WriteDot"/>, rejecting an index outside the table or a counter outside 1..<see cref="CounterMax"/>.</summary>
    public static Dot ReadDot(ref CrdtReader reader, ulong[] replicaTable)
    {
        int offset = reader.Offset;
        ulong index = reader.ReadVarUInt64();
        ulong counter = reader.ReadVarUInt64();
        if (index >= (ulong)replicaTable.Length)
        {
            reader.Fail($"dot replica index {index} is outside the replica table of {replicaTable.Length}", offset);
        }

        if (counter == 0 || counter > CounterMax)
        {
            reader.Fail($"dot counter {counter} is outside 1..{CounterMax}", offset);
        }

        return new Dot(replicaTable[index], counter);
    }

    /// <summary>A deep copy.</summary>
    public DotSet Clone()
    {
        var copy = new DotSet();
        foreach (KeyValuePair<ulong, List<DotInterval>> entry in _intervals)
        {
            copy._intervals.Add(entry.Key, [.. entry.Value]);
        }

        return copy;
    }

    /// <summary>True when both sets hold the same dots.</summary>
    public bool SetEquals(DotSet other)
    {
        if (_intervals.Count != other._intervals.Count)
        {
            return false;
        }

        foreach (KeyValuePair<ulong, List<DotInterval>> entry in _intervals)
        {
            if (!other._intervals.TryGetValue(entry.Key, out List<DotInterval>? theirs) || !entry.Value.SequenceEqual(theirs))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Appends the canonical encoding: varint replica count; per replica in ascending id order the
    /// fixed 8-byte id, a varint interval count and per interval two varints (gap from the previous
    /// interval's end, length - 1). A version-vector entry costs about 11 bytes.
    /// </summary>
    public void Write(ref CrdtWriter writer)
    {
        writer.WriteVarUInt64((ulong)_intervals.Count);
        ulong[] replicas = [.. _intervals.Keys];
        Array.Sort(replicas);
        foreach (ulong replica in replicas)
        {
            List<DotInterval> list = _intervals[replica];
            writer.WriteUInt64(replica);
            writer.WriteVarUInt64((ulong)list.Count);
            ulong previousEnd = 0;
            foreach (DotInterval interval in list)
            {
                // The first interval starts at >= 1, later ones at >= previousEnd + 2 (non-adjacent).
                ulong gap = previousEnd == 0 ? interval.Start - 1 : interval.Start - previousEnd - 2;
                writer.WriteVarUInt64(gap);
                writer.WriteVarUInt64(interval.End - interval.Start);
                previousEnd = interval.End;
            }
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote, rejecting non-canonical or out-of-range input.</summary>
    public static DotSet Read(ref CrdtReader reader)
    {
        var set = new DotSet();
        int replicaCount = reader.ReadItemCount(11, "replica count");
        ulong previousReplica = 0;
        for (int r = 0; r < replicaCount; r++)
        {
            int replicaOffset = reader.Offset;
            ulong replica = reader.ReadUInt64();
            if (r > 0 && replica <= previousReplica)
            {
                reader.Fail("dot set replicas are not in strictly ascending order", replicaOffset);
            }

            previousReplica = replica;
            int intervalCount = reader.ReadItemCount(2, "interval count");
            if (intervalCount == 0)
            {
                reader.Fail("dot set replica with no interval", replicaOffset);
            }

            var list = new List<DotInterval>(intervalCount);
            ulong previousEnd = 0;
            for (int i = 0; i < intervalCount; i++)
            {
                int intervalOffset = reader.Offset;
                ulong gap = reader.ReadVarUInt64();
                ulong lengthMinusOne = reader.ReadVarUInt64();
                ulong floor = previousEnd == 0 ? 1 : previousEnd + 2;
                if (gap > CounterMax || lengthMinusOne > CounterMax || floor + gap + lengthMinusOne > CounterMax)
                {
                    reader.Fail($"dot interval exceeds the counter limit {CounterMax}", intervalOffset);
                }

                ulong start = floor + gap;
                ulong end = start + lengthMinusOne;
                list.Add(new DotInterval(start, end));
                previousEnd = end;
            }

            set._intervals.Add(replica, list);
        }

        return set;
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Join(", ", _intervals.OrderBy(e => e.Key).Select(e => $"{e.Key:x16}:[{string.Join(",", e.Value.Select(i => $"{i.Start}-{i.End}"))}]"));

    // Index of the first interval whose End >= counter (list.Count when none).
    private static int FirstEndingAtOrAfter(List<DotInterval> list, ulong counter)
    {
        int lo = 0;
        int hi = list.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (list[mid].End < counter)
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

    [Conditional("DEBUG")]
    private static void AssertInvariants(List<DotInterval> list)
    {
        for (int i = 0; i < list.Count; i++)
        {
            Debug.Assert(list[i].Start >= 1, "interval starts at counter 1 or later");
            Debug.Assert(list[i].End >= list[i].Start, "interval end is not before its start");
            Debug.Assert(i == 0 || list[i - 1].End + 1 < list[i].Start, "intervals are sorted, disjoint and non-adjacent");
        }
    }

    private readonly record struct DotInterval(ulong Start, ulong End);
}
