using CortexEdge.Sync.Replication;

namespace CortexEdge.Sync.Tests.Replication;

/// <summary>
/// The deterministic simulation: a leader log and 1-3 replicas over a seeded network with drops,
/// duplicates, reordering, delays, partitions, replica crashes (losing their unflushed tail), leader
/// crashes (losing what was never durable, which was never shipped), pruning that forces snapshots.
/// After every seed each replica's log is a byte-identical prefix of the leader's, its state equals
/// the leader's at that LSN, nothing halted, and after healing every replica converges.
/// CE_SIM_SEEDS (default 1000) seeds per run; SIM_SEED replays one.
/// </summary>
public sealed class ReplicationSimulationTests
{
    private const int StepMs = 5;

    [Fact]
    public void Simulation_ManySeeds_ReplicasArePrefixesWithEqualState()
    {
        var totals = new SimulationTotals();
        if (Environment.GetEnvironmentVariable("SIM_SEED") is { Length: > 0 } replay)
        {
            RunSeed(int.Parse(replay, System.Globalization.CultureInfo.InvariantCulture), totals);
            return;
        }

        int seeds = int.TryParse(Environment.GetEnvironmentVariable("CE_SIM_SEEDS"), out int configured) ? configured : 1000;
        for (int seed = 1; seed <= seeds; seed++)
        {
            RunSeed(seed, totals);
        }

        // The run must have exercised the faults it claims to survive.
        Assert.True(totals.Snapshots > 0, $"no snapshot was installed in {seeds} seeds");
        Assert.True(totals.Duplicates > 0, $"no duplicate record was delivered in {seeds} seeds");
        Assert.True(totals.Gaps > 0, $"no out-of-order batch arrived in {seeds} seeds");
        Assert.True(totals.ReplicaCrashes > 0 && totals.LeaderCrashes > 0, $"crashes: replica {totals.ReplicaCrashes}, leader {totals.LeaderCrashes}");
        Assert.True(totals.Dropped > 0, "nothing was dropped");
    }

    internal sealed class SimulationTotals
    {
        public long Snapshots;
        public long Duplicates;
        public long Gaps;
        public long ReplicaCrashes;
        public long LeaderCrashes;
        public long Dropped;
    }

    private static void RunSeed(int seed, SimulationTotals totals)
    {
        var random = new Random(seed);
        var options = new ReplicationOptions
        {
            BatchRecordCountMax = 1 + random.Next(16),
            BatchBytesMax = 64 + random.Next(512),
            WindowRecordCountMax = 32 + random.Next(64),
            SnapshotChunkBytes = 16 + random.Next(128),
            SnapshotWindowChunkCountMax = 1 + random.Next(4),
            RetransmitIntervalMs = 100 + random.Next(200),
            HeartbeatIntervalMs = 50 + random.Next(100),
            StatusIntervalMs = 20 + random.Next(60),
            RetentionRecordCountMax = 20 + random.Next(200),
        };
        var network = new SimulatedNetwork(random)
        {
            DropProbability = random.NextDouble() * 0.25,
            DuplicateProbability = random.NextDouble() * 0.15,
            DelayMsMax = 1 + random.Next(80),
        };
        var log = new MemoryReplicationLog { SnapshotDelayTicks = random.Next(3) };
        var leader = new ReplicationLeaderProtocol(log, options);
        int replicaCount = 1 + random.Next(3);
        var stores = new MemoryReplicaStore[replicaCount];
        var replicas = new ReplicaProtocol[replicaCount];
        var names = new string[replicaCount];
        for (int i = 0; i < replicaCount; i++)
        {
            names[i] = $"r{i}";
            stores[i] = new MemoryReplicaStore();
            replicas[i] = new ReplicaProtocol(stores[i], names[i], options);
        }

        // A replica may join late with everything before it pruned: the snapshot path.
        int recordsMax = 100 + random.Next(400);
        double writeProbability = 0.2 + random.NextDouble() * 0.6;
        double replicaCrashProbability = random.NextDouble() * 0.004;
        double leaderCrashProbability = random.NextDouble() * 0.002;
        long faultyUntilMs = 2000 + random.Next(3000);
        long partitionUntilMs = -1;
        var leaderOutput = new List<OutgoingFrame>();
        var replicaOutput = new List<byte[]>();
        long now = 0;
        string context = $"seed {seed} (replay with SIM_SEED={seed})";

        void RouteLeader()
        {
            foreach (OutgoingFrame frame in leaderOutput)
            {
                network.Send(frame.ReplicaName, frame.Frame, now);
            }

            leaderOutput.Clear();
        }

        void RouteReplica()
        {
            foreach (byte[] frame in replicaOutput)
            {
                network.Send("leader", frame, now);
            }

            replicaOutput.Clear();
        }

        long convergeDeadline = faultyUntilMs + 60_000;
        while (true)
        {
            now += StepMs;
            bool faulty = now < faultyUntilMs;
            if (faulty)
            {
                if (log.LastLsn < recordsMax && random.NextDouble() < writeProbability)
                {
                    int count = 1 + random.Next(4);
                    for (int k = 0; k < count; k++)
                    {
                        log.Append((byte)random.Next(48), random.NextInt64());
                    }
                }

                if (random.NextDouble() < 0.5)
                {
                    log.DurableLsn = Math.Max(log.DurableLsn, log.LastLsn - random.Next((int)Math.Min(4, log.LastLsn + 1)));
                }

                if (random.NextDouble() < 0.02)
                {
                    log.Prune(log.DurableLsn - random.Next(10));
                }

                if (partitionUntilMs < now && random.NextDouble() < 0.002)
                {
                    partitionUntilMs = now + random.Next(1500);
                }

                network.Partitioned = now < partitionUntilMs;
                for (int i = 0; i < replicaCount; i++)
                {
                    if (random.NextDouble() < 0.05)
                    {
                        stores[i].Flush();
                    }

                    if (random.NextDouble() < replicaCrashProbability)
                    {
                        stores[i].Crash();
                        replicas[i] = new ReplicaProtocol(stores[i], names[i], options);
                        totals.ReplicaCrashes++;
                    }
                }

                if (random.NextDouble() < leaderCrashProbability)
                {
                    // Power loss at the leader: what was never durable is gone (it was never shipped).
                    int keep = (int)log.DurableLsn;
                    log.AllRecords.RemoveRange(keep, log.AllRecords.Count - keep);
                    log.Crcs.RemoveRange(keep, log.Crcs.Count - keep);
                    leader = new ReplicationLeaderProtocol(log, options);
                    totals.LeaderCrashes++;
                }
            }
            else
            {
                network.Partitioned = false;
                network.DropProbability = 0;
                log.DurableLsn = log.LastLsn;
            }

            foreach ((string to, byte[] frame) in network.Deliver(now).ToList())
            {
                if (to == "leader")
                {
                    leader.Receive(frame, now, leaderOutput);
                    RouteLeader();
                }
                else
                {
                    int index = Array.IndexOf(names, to);

                    replicas[index].Receive(frame, now, replicaOutput);
                    RouteReplica();
                }
            }

            leader.Tick(now, leaderOutput);
            RouteLeader();
            for (int i = 0; i < replicaCount; i++)
            {
                replicas[i].Tick(now, replicaOutput);
                RouteReplica();
                if (now % 500 == 0)
                {
                    AssertPrefix(log, stores[i], replicas[i], context, names[i]);
                }
            }

            if (!faulty && stores.All(s => s.LastLsn == log.LastLsn && s.StagedSnapshotId == 0))
            {
                break;
            }

            if (now > convergeDeadline)
            {
                string states = string.Join("; ", stores.Select((s, i) => $"{names[i]} at {s.LastLsn} ({replicas[i].GetStatus(now).State}, {replicas[i].Divergence?.Message})"));
                Assert.Fail($"{context}: replicas did not converge on leader LSN {log.LastLsn} (first {log.FirstLsn}) by {now} ms: {states}; leader sees {string.Join(", ", leader.GetReplicas())}");
            }
        }

        for (int i = 0; i < replicaCount; i++)
        {
            AssertPrefix(log, stores[i], replicas[i], context, names[i]);
            ReplicaStatus status = replicas[i].GetStatus(now);
            totals.Duplicates += status.DuplicateRecordCount;
            totals.Gaps += status.GapFrameCount;
            totals.Snapshots += stores[i].InstalledSnapshotCount;
        }

        totals.Dropped += network.DroppedCount;
    }

    internal static void AssertPrefix(MemoryReplicationLog log, MemoryReplicaStore store, ReplicaProtocol replica, string context, string name)
    {
        Assert.True(replica.Divergence is null, $"{context}: {name} halted in an honest run: {replica.Divergence?.Message}");
        Assert.True(store.LastLsn <= log.LastLsn, $"{context}: {name} holds LSN {store.LastLsn} past the leader's end {log.LastLsn}");
        for (long lsn = store.FirstLsn; lsn <= store.LastLsn; lsn++)
        {
            byte[] mine = store.Records[(int)(lsn - store.FirstLsn)];
            byte[] leaders = log.AllRecords[(int)lsn - 1];
            Assert.True(mine.AsSpan().SequenceEqual(leaders), $"{context}: {name}'s record at LSN {lsn} differs from the leader's");
        }

        SortedDictionary<byte, long> expected = MemoryKeyValueState.Replay(log.AllRecords, store.LastLsn);
        Assert.True(expected.SequenceEqual(store.State), $"{context}: {name}'s state at LSN {store.LastLsn} differs from the leader's ({store.State.Count} vs {expected.Count} keys)");
    }
}
