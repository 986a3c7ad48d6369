namespace CortexEdge.Core.Vectors;

/// <summary>
/// Map from vector id to slot: an open-addressing table of slot numbers (linear probing,
/// backward-shift deletion) that stores no id of its own — it compares against the collection's
/// id-per-slot array, passed to every call. 4 bytes per table entry at a load of at most 3/4, where a
/// <see cref="Dictionary{TKey, TValue}"/> entry takes 24 bytes plus its bucket. Not thread-safe: the
/// collection's lock guards it.
/// </summary>
internal sealed class VectorIdMap
{
    private const int Empty = -1;
    private const int InitialLength = 16;

    private int[] _table;
    private int _mask;

    internal VectorIdMap()
    {
        _table = new int[InitialLength];
        Array.Fill(_table, Empty);
        _mask = InitialLength - 1;
    }

    /// <summary>Ids in the map.</summary>
    internal int Count { get; private set; }

    /// <summary>Bytes held by the table.</summary>
    internal long AllocatedBytes => _table.Length * 4L;

    /// <summary>Sizes the table for <paramref name="count"/> ids at once (a bulk load), so it never regrows on the way.</summary>
    internal void Reserve(int count, string?[] ids)
    {
        long needed = (count * 4L / 3) + 1;
        if (needed <= _table.Length * 3L / 4)
        {
            return;
        }

        int length = _table.Length;
        while (length * 3L / 4 < needed)
        {
            length *= 2;
        }

        Rehash(length, ids);
    }

    /// <summary>The slot of <paramref name="id"/>; false when absent. <paramref name="ids"/>[slot] is the id of each mapped slot.</summary>
    internal bool TryGet(string id, string?[] ids, out int slot)
    {
        int i = Home(id);
        while (true)
        {
            int candidate = _table[i];
            if (candidate == Empty)
            {
                slot = -1;
                return false;
            }

            if (string.Equals(ids[candidate], id, StringComparison.Ordinal))
            {
                slot = candidate;
                return true;
            }

            i = (i + 1) & _mask;
        }
    }

    /// <summary>Maps <paramref name="id"/> (not yet present) to <paramref name="slot"/>.</summary>
    internal void Add(string id, int slot, string?[] ids)
    {
        if ((Count + 1) * 4L > _table.Length * 3L)
        {
            Grow(ids);
        }

        Insert(Home(id), slot);
        Count++;
    }

    /// <summary>Removes <paramref name="id"/>; false when absent. <paramref name="ids"/> must still name it.</summary>
    internal bool Remove(string id, string?[] ids)
    {
        int hole = Home(id);
        while (true)
        {
            int candidate = _table[hole];
            if (candidate == Empty)
            {
                return false;
            }

            if (string.Equals(ids[candidate], id, StringComparison.Ordinal))
            {
                break;
            }

            hole = (hole + 1) & _mask;
        }

        // Backward shift: pull later members of the probe run into the hole when the hole lies on
        // their path from their home, so lookups never stop early at an empty entry.
        int j = hole;
        while (true)
        {
            j = (j + 1) & _mask;
            int moving = _table[j];
            if (moving == Empty)
            {
                break;
            }

            int home = Home(ids[moving]!);
            if (((j - home) & _mask) >= ((j - hole) & _mask))
            {
                _table[hole] = moving;
                hole = j;
            }
        }

        _table[hole] = Empty;
        Count--;
        return true;
    }

    private int Home(string id) => id.GetHashCode(StringComparison.Ordinal) & _mask;

    private void Insert(int home, int slot)
    {
        int i = home;
        while (_table[i] != Empty)
        {
            i = (i + 1) & _mask;
        }

        _table[i] = slot;
    }

    private void Grow(string?[] ids) => Rehash(_table.Length * 2, ids);

    private void Rehash(int length, string?[] ids)
    {
        int[] old = _table;
        _table = new int[length];
        Array.Fill(_table, Empty);
        _mask = _table.Length - 1;
        foreach (int slot in old)
        {
            if (slot != Empty)
            {
                Insert(Home(ids[slot]!), slot);
            }
        }
    }
}
