using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

/// <summary>
/// A long add/remove run over a few elements on several replicas with deltas in flight, used to
/// show that set metadata stays bounded. Deltas are delivered in random order once more than
/// <see cref="InFlightMax"/> are queued, and all are delivered at the end.
/// </summary>
internal sealed class SetMetadataRun<T>(Func<T> create, Func<T, ulong, string, T> add, Func<T, string, T> remove)
    where T : class, IDeltaCrdt<T>
{
    public const int ReplicaCount = 3;
    public const int ElementCount = 10;
    public const int InFlightMax = 16;

    /// <summary>Runs <paramref name="cycles"/> operations; <paramref name="sample"/> sees every replica's state every 97 cycles and at the end.</summary>
    public T[] Run(int cycles, Random random, Action<T, int> sample)
    {
        var states = new T[ReplicaCount];
        for (int r = 0; r < ReplicaCount; r++)
        {
            states[r] = create();
        }

        var pending = new List<(int Target, T Delta)>();
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            int origin = random.Next(ReplicaCount);
            string element = "e" + random.Next(ElementCount);
            T delta = random.Next(2) == 0 ? add(states[origin], 0x1000 + (ulong)origin, element) : remove(states[origin], element);
            for (int target = 0; target < ReplicaCount; target++)
            {
                if (target != origin)
                {
                    pending.Add((target, delta));
                }
            }

            while (pending.Count > InFlightMax)
            {
                Deliver(states, pending, random);
            }

            if (cycle % 97 == 0)
            {
                foreach (T state in states)
                {
                    sample(state, cycle);
                }
            }
        }

        while (pending.Count > 0)
        {
            Deliver(states, pending, random);
        }

        foreach (T state in states)
        {
            sample(state, cycles);
        }

        return states;
    }

    private static void Deliver(T[] states, List<(int Target, T Delta)> pending, Random random)
    {
        int index = random.Next(pending.Count);
        (int target, T delta) = pending[index];
        pending.RemoveAt(index);
        states[target].Merge(delta);
    }
}
