using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

/// <summary>
/// The randomized properties every CRDT type must have: merge laws, convergence under arbitrary
/// delivery, and decoders that reject damaged input with a typed error. Each returns nothing and
/// fails an assertion naming the seed (replay with CE_TEST_SEED) and the schedule.
/// </summary>
internal static class CrdtPropertyChecks
{
    /// <summary>
    /// N replicas (2..5) apply random operations; each delta (sometimes the whole state instead) is
    /// queued for every other replica and delivered in random order, some duplicated, some relayed
    /// onward, some through encode/decode. When every queue is empty all replicas must hold the
    /// same state, encode to the same bytes, and agree with the model's expectation.
    /// </summary>
    public static void Convergence<T>(CrdtModel<T> model, int schedules)
        where T : class, IDeltaCrdt<T>
    {
        int seed = CrdtTestEnvironment.Seed();
        var master = new Random(seed);
        for (int schedule = 0; schedule < schedules; schedule++)
        {
            var random = new Random(master.Next());
            (T[] states, _) = RunWorld(model, random, deliverAll: true, snapshots: null);
            byte[] reference = CrdtEncoding.ToArray(states[0]);
            for (int r = 1; r < states.Length; r++)
            {
                Assert.True(states[r].StateEquals(states[0]), $"{model.Name} seed {seed} schedule {schedule}: replica {r} diverged: {states[r]} vs {states[0]}");
                Assert.True(reference.AsSpan().SequenceEqual(CrdtEncoding.ToArray(states[r])), $"{model.Name} seed {seed} schedule {schedule}: replica {r} encodes differently");
            }

            string? error = model.CheckConverged(states[0]);
            Assert.True(error is null, $"{model.Name} seed {seed} schedule {schedule}: {error}");
        }
    }

    /// <summary>Join laws over states and deltas taken from random partially delivered worlds: commutative, associative, idempotent, and a join absorbs its operands.</summary>
    public static void MergeLaws<T>(CrdtModel<T> model, int trials)
        where T : class, IDeltaCrdt<T>
    {
        int seed = CrdtTestEnvironment.Seed();
        var master = new Random(seed);
        int trial = 0;
        while (trial < trials)
        {
            var random = new Random(master.Next());
            var pool = new List<T>();
            RunWorld(model, random, deliverAll: false, snapshots: pool);
            for (int check = 0; check < 10 && trial < trials; check++, trial++)
            {
                T a = pool[random.Next(pool.Count)];
                T b = pool[random.Next(pool.Count)];
                T c = pool[random.Next(pool.Count)];
                string where = $"{model.Name} seed {seed} trial {trial}";

                T ab = Join(a, b);
                T ba = Join(b, a);
                Assert.True(ab.StateEquals(ba), $"{where}: not commutative: {ab} vs {ba}");

                T abc = Join(ab, c);
                T aBc = Join(a, Join(b, c));
                Assert.True(abc.StateEquals(aBc), $"{where}: not associative: {abc} vs {aBc}");

                Assert.True(Join(a, a).StateEquals(a), $"{where}: not idempotent: {a}");
                Assert.True(Join(ab, b).StateEquals(ab), $"{where}: merging an operand again changed the join");

                CrdtMergeOutcome again = ab.Clone().Merge(a);
                Assert.False(again.Changed, $"{where}: re-merging an absorbed state reported a change");
            }
        }
    }

    /// <summary>
    /// Valid encodings of random states and deltas, mutated (bit flips, byte changes, truncation,
    /// extension, insertion, deletion, garbage): decoding either throws <see cref="EdgeException"/>
    /// with <see cref="EdgeErrorCode.CrdtMalformed"/> or yields a state that re-encodes to exactly
    /// the input (the encoding is canonical) and merges into a valid state without error.
    /// </summary>
    public static void DecoderFuzz<T>(CrdtModel<T> model, int iterations)
        where T : class, IDeltaCrdt<T>
    {
        int seed = CrdtTestEnvironment.Seed();
        var random = new Random(seed);
        var pool = new List<T>();
        while (pool.Count < 200)
        {
            RunWorld(model, new Random(random.Next()), deliverAll: false, snapshots: pool);
        }

        byte[][] valid = [.. pool.Select(CrdtEncoding.ToArray)];
        foreach (byte[] encoding in valid)
        {
            Assert.True(model.Decode(encoding).StateEquals(model.Decode(encoding)), $"{model.Name} seed {seed}: valid encoding did not round trip");
        }

        int rejected = 0;
        for (int i = 0; i < iterations; i++)
        {
            int source = random.Next(valid.Length);
            byte[] input = Mutate(valid[source], random);
            T decoded;
            try
            {
                decoded = model.Decode(input);
            }
            catch (EdgeException exception) when (exception.Code == EdgeErrorCode.CrdtMalformed)
            {
                Assert.Contains("offset", exception.Message, StringComparison.Ordinal);
                rejected++;
                continue;
            }
            catch (Exception exception)
            {
                Assert.Fail($"{model.Name} seed {seed} iteration {i}: {exception.GetType().Name} instead of CrdtMalformed for {Convert.ToHexString(input)}: {exception}");
                throw;
            }

            byte[] again = CrdtEncoding.ToArray(decoded);
            Assert.True(again.AsSpan().SequenceEqual(input), $"{model.Name} seed {seed} iteration {i}: accepted a non-canonical encoding {Convert.ToHexString(input)} (re-encodes as {Convert.ToHexString(again)})");
            pool[source].Clone().Merge(decoded);
            decoded.Merge(pool[source]);
        }

        Assert.True(rejected > iterations / 4, $"{model.Name} seed {seed}: only {rejected} of {iterations} mutated encodings were rejected");
    }

    private static T Join<T>(T left, T right)
        where T : class, IDeltaCrdt<T>
    {
        T result = left.Clone();
        result.Merge(right);
        return result;
    }

    private static (T[] States, SimulatedReplica[] Replicas) RunWorld<T>(CrdtModel<T> model, Random random, bool deliverAll, List<T>? snapshots)
        where T : class, IDeltaCrdt<T>
    {
        model.BeginSchedule();
        int replicaCount = random.Next(2, 6);
        var replicas = new SimulatedReplica[replicaCount];
        for (int r = 0; r < replicaCount; r++)
        {
            // Random 64-bit ids exercise ordering and the fixed-width encoding; index r keeps them distinct.
            replicas[r] = new SimulatedReplica(((ulong)random.NextInt64() & ~0xFUL) | (uint)r);
        }

        var states = new T[replicaCount];
        for (int r = 0; r < replicaCount; r++)
        {
            states[r] = model.Create();
        }

        var pending = new List<(int Target, T Payload)>();
        int operationsLeft = random.Next(1, 16);
        while (operationsLeft > 0 || (deliverAll && pending.Count > 0))
        {
            if (operationsLeft > 0 && (pending.Count == 0 || random.Next(3) == 0))
            {
                int origin = random.Next(replicaCount);
                T delta = model.RandomOperation(states[origin], replicas[origin], random);
                operationsLeft--;
                snapshots?.Add(delta);
                for (int target = 0; target < replicaCount; target++)
                {
                    if (target != origin)
                    {
                        pending.Add((target, random.Next(8) == 0 ? states[origin].Clone() : delta));
                    }
                }
            }
            else
            {
                int index = random.Next(pending.Count);
                (int target, T payload) = pending[index];
                if (random.Next(5) != 0)
                {
                    pending.RemoveAt(index); // otherwise it stays queued and arrives again later
                }

                T incoming = random.Next(4) == 0 ? model.Decode(CrdtEncoding.ToArray(payload)) : payload;
                states[target].Merge(incoming);
                if (random.Next(6) == 0)
                {
                    pending.Add((random.Next(replicaCount), incoming)); // relayed onward (gossip)
                }
            }

            if (snapshots is not null && random.Next(3) == 0)
            {
                snapshots.Add(states[random.Next(replicaCount)].Clone());
            }
        }

        return (states, replicas);
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        byte[] bytes = [.. valid];
        int mutations = random.Next(4) == 0 ? random.Next(2, 5) : 1;
        for (int m = 0; m < mutations; m++)
        {
            switch (random.Next(9))
            {
                case 0 when bytes.Length > 0:
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Length > 0:
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                    break;
                case 2 when bytes.Length > 0:
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                case 3:
                    byte[] tail = new byte[random.Next(1, 12)];
                    random.NextBytes(tail);
                    bytes = [.. bytes, .. tail];
                    break;
                case 4:
                    int at = random.Next(bytes.Length + 1);
                    bytes = [.. bytes[..at], (byte)random.Next(256), .. bytes[at..]];
                    break;
                case 5 when bytes.Length > 0:
                    int cut = random.Next(bytes.Length);
                    bytes = [.. bytes[..cut], .. bytes[(cut + 1)..]];
                    break;
                case 6:
                    byte[] garbage = new byte[random.Next(0, 64)];
                    random.NextBytes(garbage);
                    if (garbage.Length >= 2 && random.Next(2) == 0)
                    {
                        garbage[0] = valid[0];
                        garbage[1] = valid[1];
                    }

                    bytes = garbage;
                    break;
                case 7 when bytes.Length > 2:
                    bytes[random.Next(2, bytes.Length)] = random.Next(2) == 0 ? (byte)0xFF : (byte)0x80;
                    break;
                default:
                    if (bytes.Length > 2)
                    {
                        bytes[2 + random.Next(bytes.Length - 2)] = (byte)random.Next(4);
                    }

                    break;
            }
        }

        return bytes;
    }
}
