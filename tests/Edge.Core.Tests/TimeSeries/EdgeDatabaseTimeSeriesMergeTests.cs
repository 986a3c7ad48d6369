using CortexEdge.Core.State;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core.Tests.TimeSeries;

/// <summary>
/// Two databases' time-series ops exchanged through <see cref="EdgeDatabase.ApplyRemoteAsync"/> (the
/// path sync uses) in random interleavings, with checkpoints and crash-like reopens: every replica
/// ends with the set union of the readings keyed by (timestamp, origin).
/// </summary>
public sealed class EdgeDatabaseTimeSeriesMergeTests : IDisposable
{
    private const long Start = 1_700_000_000_000;
    private static readonly string[] s_series = ["shared", "shared2"];
    private readonly WalTestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private EdgeDatabase Open(string name) => EdgeDatabase.Open(Path.Combine(_directory.Path, name), new EdgeDatabaseOptions
    {
        Durability = WalDurability.None,
        CheckpointInterval = TimeSpan.FromHours(1),
        CheckpointRecordCount = int.MaxValue,
        TimeSeries = new TimeSeriesOptions { ChunkReadingsMax = 8, ChunkSpan = TimeSpan.FromMinutes(10) },
    });

    [Fact]
    public async Task TwoNodesOps_AppliedRemotelyInRandomInterleavings_WithCheckpointsAndCrashes_ConvergeToTheSetUnion()
    {
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        int rounds = SeriesGenerator.Iterations("CE_TS_MERGE_DB_ROUNDS", 3);
        for (int round = 0; round < rounds; round++)
        {
            string context = $"seed {seed} round {round}";
            using EdgeDatabase a = Open($"a{round}");
            using EdgeDatabase b = Open($"b{round}");
            var model = new Dictionary<string, Dictionary<(long Timestamp, ulong Origin), double>>();
            foreach (EdgeDatabase node in new[] { a, b })
            {
                for (int op = random.Next(5, 20); op > 0; op--)
                {
                    string series = s_series[random.Next(s_series.Length)];
                    TimeSeriesReading[] batch = TimeSeriesStoreTests.RandomBatch(random, random.Next(1, 30));
                    await node.AppendAsync(series, batch);
                    Dictionary<(long, ulong), double> readings = model.TryGetValue(series, out var r) ? r : model[series] = [];
                    foreach (TimeSeriesReading reading in batch)
                    {
                        readings[(reading.Timestamp, node.ReplicaId)] = reading.Value;
                    }
                }
            }

            List<Op> opsA = OwnOps(a);
            List<Op> opsB = OwnOps(b);
            string expected = Render(model);

            // Each node receives the other's stream after its own.
            foreach ((EdgeDatabase node, List<Op> ops) in new[] { (a, opsB), (b, opsA) })
            {
                foreach (Op op in ops)
                {
                    Assert.Equal(RemoteApplyStatus.Applied, await node.ApplyRemoteAsync(WalRecordKind.TimeSeriesBatch, op.Header, op.Body));
                }

                Assert.True(expected == Render(node), $"{context}: node {node.ReplicaId:X16} differs from the set union");
            }

            // A third replica gets both streams interleaved at random, with re-deliveries,
            // checkpoints and closes without a checkpoint (the heads are rebuilt from its WAL).
            string name = $"c{round}";
            EdgeDatabase c = Open(name);
            try
            {
                int nextA = 0;
                int nextB = 0;
                while (nextA < opsA.Count || nextB < opsB.Count)
                {
                    bool fromA = nextB == opsB.Count || (nextA < opsA.Count && random.Next(2) == 0);
                    Op op = fromA ? opsA[nextA++] : opsB[nextB++];
                    Assert.Equal(RemoteApplyStatus.Applied, await c.ApplyRemoteAsync(WalRecordKind.TimeSeriesBatch, op.Header, op.Body));
                    if (random.Next(4) == 0)
                    {
                        // Re-delivery of an op already applied (sync retry): refused as a duplicate, nothing changes.
                        Op again = fromA ? opsA[random.Next(nextA)] : opsB[random.Next(nextB)];
                        Assert.Equal(RemoteApplyStatus.Duplicate, await c.ApplyRemoteAsync(WalRecordKind.TimeSeriesBatch, again.Header, again.Body));
                    }

                    switch (random.Next(8))
                    {
                        case 0:
                            await c.CheckpointAsync();
                            break;
                        case 1:
                            c.CloseWithoutCheckpoint();
                            c.Dispose();
                            c = Open(name);
                            break;
                    }
                }

                Assert.True(expected == Render(c), $"{context}: the interleaved replica differs from the set union:\n{Render(c)}\nexpected\n{expected}");
                c.CloseWithoutCheckpoint();
                c.Dispose();
                c = Open(name);
                Assert.True(expected == Render(c), $"{context}: the interleaved replica differs after a reopen");
            }
            finally
            {
                c.Dispose();
            }
        }
    }

    [Fact]
    public async Task SeriesRowsWithoutOrigin_FromTheFirstFormat_AreMigratedAndReadAsTheLocalReplicas()
    {
        string name = "legacy";
        ulong replicaId;
        TimeSeriesReading[] closed = [.. Enumerable.Range(0, 20).Select(i => new TimeSeriesReading(Start + (i * 1000L), i))];
        TimeSeriesReading[] head = [new(Start + 30_000, 30), new(Start + 31_000, 31)];
        using (EdgeDatabase database = Open(name))
        {
            replicaId = database.ReplicaId;
            await database.AppendAsync("s", closed);
            await database.CheckpointAsync();
            await database.AppendAsync("s", head); // in the WAL only: replayed into the head on open
            database.CloseWithoutCheckpoint();
        }

        // Turn the table back into the first format: one row per name, no origin column.
        string stateFile = Path.Combine(_directory.Path, name, StateStore.FileName);
        using (var connection = new SqliteConnection($"Data Source={stateFile};Pooling=False"))
        {
            connection.Open();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText =
                "CREATE TABLE v1(series_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_lsn INTEGER NOT NULL, retention_floor INTEGER NOT NULL, closed_through INTEGER NOT NULL);" +
                "INSERT INTO v1 SELECT series_id, name, created_lsn, retention_floor, closed_through FROM ce_ts_series;" +
                "DROP TABLE ce_ts_series; ALTER TABLE v1 RENAME TO ce_ts_series;";
            command.ExecuteNonQuery();
        }

        using (EdgeDatabase database = Open(name))
        {
            Assert.Equal([.. closed, .. head], database.ReadRange("s", Start, Start + 100_000));
            await database.AppendAsync("s", Start + 30_000, 300); // the local origin: replaces
            Op remote = RemoteOp("s", [new(Start + 30_000, -1)]);
            Assert.NotEqual(replicaId, remote.Header.OriginReplicaId);
            Assert.Equal(RemoteApplyStatus.Applied, await database.ApplyRemoteAsync(WalRecordKind.TimeSeriesBatch, remote.Header, remote.Body));
            await database.CheckpointAsync();
        }

        using (EdgeDatabase database = Open(name))
        {
            // The local (migrated) reading and the remote one at the same timestamp, ordered by origin.
            var at = database.ReadRangeWithOrigins("s", Start + 30_000, Start + 30_001);
            ulong remoteOrigin = database.ReadRangeWithOrigins("s", Start, Start + 100_000).Single(r => r.Origin != replicaId).Origin;
            (TimeSeriesReading, ulong)[] expected = [(new(Start + 30_000, 300), replicaId), (new(Start + 30_000, -1), remoteOrigin)];
            Assert.Equal(expected.OrderBy(r => r.Item2), at);
            Assert.Equal(closed.Length + head.Length + 1, database.ListSeries().Single().Count);
        }
    }

    private readonly record struct Op(OperationHeader Header, byte[] Body);

    // The database's own time-series ops from its WAL, in origin-sequence order (what a node uploads).
    private static List<Op> OwnOps(EdgeDatabase database)
    {
        var ops = new List<Op>();
        using WalReader reader = database.Wal.OpenReader(database.Wal.FirstLsn);
        while (reader.TryRead(out WalRecord record))
        {
            if (record.Kind == WalRecordKind.TimeSeriesBatch && OperationHeader.TryRead(record.Payload, out OperationHeader header) && header.OriginReplicaId == database.ReplicaId)
            {
                ops.Add(new Op(header, record.Payload[OperationHeader.EncodedBytes..].ToArray()));
            }
        }

        return ops;
    }

    // An append op of another replica: written by a scratch database, read back from its WAL.
    private static Op RemoteOp(string series, TimeSeriesReading[] readings)
    {
        using var scratch = EdgeDatabase.Open(Path.Combine(Path.GetTempPath(), "ce-ts-body-" + Guid.NewGuid().ToString("N")), new EdgeDatabaseOptions { Durability = WalDurability.None });
        try
        {
            scratch.AppendAsync(series, readings).AsTask().GetAwaiter().GetResult();
            return OwnOps(scratch).Single();
        }
        finally
        {
            string directory = scratch.Directory;
            scratch.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Render(Dictionary<string, Dictionary<(long Timestamp, ulong Origin), double>> model) =>
        string.Concat(model.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s =>
            s.Key + ":" + string.Concat(s.Value.OrderBy(r => r.Key.Timestamp).ThenBy(r => r.Key.Origin).Select(r => Reading(r.Key.Timestamp, r.Value, r.Key.Origin))) + "\n"));

    // Every series' readings in read order with their origins, bit-exact.
    private static string Render(EdgeDatabase database) =>
        string.Concat(database.ListSeries().Select(info =>
            info.Name + ":" + string.Concat(database.ReadRangeWithOrigins(info.Name, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax)
                .Select(r => Reading(r.Reading.Timestamp, r.Reading.Value, r.Origin))) + "\n"));

    private static string Reading(long timestamp, double value, ulong origin) => $"{timestamp}/{BitConverter.DoubleToUInt64Bits(value):X}/{origin:X} ";
}
