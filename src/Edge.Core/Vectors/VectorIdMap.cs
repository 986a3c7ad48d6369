namespace CortexEdge.Core.Vectors;

/// <summary>
/// Map from vector id to slot: an open-addressing table of slot numbers (linear probing,
/// backward-shift deletion) that stores no id of its own — it compares against the UTF-8 ids in the
/// slot trailers of the collection's <see cref="VectorFile"/>, passed to every call, so no id string is
/// kept on the heap per vector. 4 bytes per table entry at a load between 1/2 and 3/4
/// (the table grows by half, and its length need not be a power of two: a hash maps to its home by
/// multiplication), about 6 bytes per id, where a <see cref="Dictionary{TKey, TValue}"/> entry takes
/// 24 bytes plus its bucket. Not thread-safe: the collection's lock guards it.
/// </summary>
internal sealed class VectorIdMap
{
    private const int Empty = -1;
    private const int InitialLength = 16;

    private int[] _table;

    internal VectorIdMap()
    {
        _table = new int[InitialLength];
        Array.Fill(_table, Empty);
    }

    /// <summary>Ids in the map.</summary>
    internal int Count { get; private set; }

    /// <summary>Bytes held by the table.</summary>
    internal long AllocatedBytes => _table.Length * 4L;

    /// <summary>Sizes the table for <paramref name="count"/> ids at once (a bulk load), so it never regrows on the way.</summary>
    internal void Reserve<TIds>(int count, TIds ids)
        where TIds : IVectorIdSource
    {
        // The length that holds count ids at a load of 3/4, plus room for a few more before a regrow.
        long needed = (count * 4L / 3) + 16;
        if (needed <= _table.Length)
        {
            return;
        }

        Rehash((int)Math.Min(Array.MaxLength, needed), ids);
    }

    /// <summary>The slot of <paramref name="id"/> (UTF-8); false when absent. <paramref name="ids"/> holds the id of each mapped slot.</summary>
    internal bool TryGet<TIds>(ReadOnlySpan<byte> id, TIds ids, out int slot)
        where TIds : IVectorIdSource
    {
        int i = IndexOf(id, ids);
        slot = i < 0 ? -1 : _table[i];
        return i >= 0;
    }

    /// <summary>Maps <paramref name="id"/> (not yet present) to <paramref name="slot"/>.</summary>
    internal void Add<TIds>(ReadOnlySpan<byte> id, int slot, TIds ids)
        where TIds : IVectorIdSource
    {
        if ((Count + 1) * 4L > _table.Length * 3L)
        {
            Grow(ids);
        }

        Insert(Home(id), slot);
        Count++;
    }

    /// <summary>
    /// Maps <paramref name="id"/> to <paramref name="slot"/> unless it is already present (then false,
    /// the map unchanged): one hash and one walk of the probe run, where TryGet then Add take two.
    /// </summary>
    internal bool TryAdd<TIds>(ReadOnlySpan<byte> id, int slot, TIds ids)
        where TIds : IVectorIdSource
    {
        if ((Count + 1) * 4L > _table.Length * 3L)
        {
            Grow(ids);
        }

        int i = Home(id);
        while (true)
        {
            int candidate = _table[i];
            if (candidate == Empty)
            {
                _table[i] = slot;
                Count++;
                return true;
            }

            if (ids.GetId(candidate).SequenceEqual(id))
            {
                return false;
            }

            i = Next(i);
        }
    }

    /// <summary>
    /// Points the entry of <paramref name="id"/> (mapped to <paramref name="from"/>) at
    /// <paramref name="to"/>, for a vector moved to another slot.
    /// </summary>
    internal void Renumber(ReadOnlySpan<byte> id, int from, int to)
    {
        int i = Home(id);
        while (_table[i] != from)
        {
            if (_table[i] == Empty)
            {
                throw new InvalidOperationException($"slot {from} is not in the id map under its id");
            }

            i = Next(i);
        }

        _table[i] = to;
    }

    /// <summary>Removes <paramref name="id"/>; false when absent. <paramref name="ids"/> must still name it.</summary>
    internal bool Remove<TIds>(ReadOnlySpan<byte> id, TIds ids)
        where TIds : IVectorIdSource
    {
        int hole = IndexOf(id, ids);
        if (hole < 0)
        {
            return false;
        }

        // Backward shift: pull later members of the probe run into the hole when the hole lies on
        // their path from their home, so lookups never stop early at an empty entry.
        int j = hole;
        while (true)
        {
            j = Next(j);
            int moving = _table[j];
            if (moving == Empty)
            {
                break;
            }

            int home = Home(ids.GetId(moving));
            if (Distance(home, j) >= Distance(hole, j))
            {
                _table[hole] = moving;
                hole = j;
            }
        }

        _table[hole] = Empty;
        Count--;
        return true;
    }

    /// <summary>The table index holding <paramref name="id"/>; -1 when absent.</summary>
    private int IndexOf<TIds>(ReadOnlySpan<byte> id, TIds ids)
        where TIds : IVectorIdSource
    {
        int i = Home(id);
        while (true)
        {
            int candidate = _table[i];
            if (candidate == Empty)
            {
                return -1;
            }

            if (ids.GetId(candidate).SequenceEqual(id))
            {
                return i;
            }

            i = Next(i);
        }
    }

    private int Home(ReadOnlySpan<byte> id)
    {
        // HashCode is seeded per process (the table is never persisted), so crafted ids cannot aim at one run.
        var hash = default(HashCode);
        hash.AddBytes(id);
        return (int)(((ulong)(uint)hash.ToHashCode() * (ulong)_table.Length) >> 32);
    }

    private int Next(int i) => i + 1 == _table.Length ? 0 : i + 1;

    /// <summary>Steps from <paramref name="from"/> forward (wrapping) to <paramref name="to"/>.</summary>
    private int Distance(int from, int to) => to >= from ? to - from : to - from + _table.Length;

    private void Insert(int home, int slot)
    {
        int i = home;
        while (_table[i] != Empty)
        {
            i = Next(i);
        }

        _table[i] = slot;
    }

    private void Grow<TIds>(TIds ids)
        where TIds : IVectorIdSource => Rehash((int)Math.Min(Array.MaxLength, _table.Length + (_table.Length / 2L)), ids);

    private void Rehash<TIds>(int length, TIds ids)
        where TIds : IVectorIdSource
    {
        int[] old = _table;
        _table = new int[length];
        Array.Fill(_table, Empty);
        foreach (int slot in old)
        {
            if (slot != Empty)
            {
                Insert(Home(ids.GetId(slot)), slot);
            }
        }
    }
}
