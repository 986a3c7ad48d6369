using CortexEdge.Core;
using CortexEdge.Sync.Fleet;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Sync.Tests.Fleet;

/// <summary>Anti-entropy over real databases: a copied replica agrees; divergence injected into one SQLite file while closed is found and named.</summary>
public sealed class EdgeCollectionSourceTests : IDisposable
{
    private const string Collection = "sensors";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-fleet-ae-" + Guid.NewGuid().ToString("N")[..12]);

    public EdgeCollectionSourceTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Compare_CopiedReplica_Agrees()
    {
        (string leader, string node) = await CreateReplicasAsync(500);
        using EdgeDatabase leaderDb = EdgeDatabase.Open(leader);
        using EdgeDatabase nodeDb = EdgeDatabase.Open(node);

        AntiEntropyReport report = AntiEntropyExchange.Compare(
            MerkleDigest.Build(new EdgeCollectionSource(nodeDb, Collection)), new AntiEntropyResponder(new EdgeCollectionSource(leaderDb, Collection)));

        Assert.True(report.Result.InAgreement);
        Assert.Equal(500, MerkleDigest.Build(new EdgeCollectionSource(nodeDb, Collection)).ItemCount);
    }

    [Fact]
    public async Task Compare_RowChangedAndRowRemovedBehindTheEngine_BothKeysNamed()
    {
        (string leader, string node) = await CreateReplicasAsync(500);
        // Behind the engine's back, while the node is stopped: one row replaced by another
        // document's state, one row removed.
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(node, "state.db")};Pooling=False"))
        {
            connection.Open();
            using SqliteCommand change = connection.CreateCommand();
            change.CommandText =
                "UPDATE ce_documents SET state = (SELECT state FROM ce_documents WHERE collection = $c AND key = 'k-0007'), " +
                "json = (SELECT json FROM ce_documents WHERE collection = $c AND key = 'k-0007') WHERE collection = $c AND key = 'k-0123';" +
                "DELETE FROM ce_documents WHERE collection = $c AND key = 'k-0321';";
            change.Parameters.AddWithValue("$c", Collection);
            change.ExecuteNonQuery();
        }

        using EdgeDatabase leaderDb = EdgeDatabase.Open(leader);
        using EdgeDatabase nodeDb = EdgeDatabase.Open(node);
        Assert.Null(nodeDb.Get(Collection, "k-0321")); // the injection reached the state the engine serves

        AntiEntropyReport report = AntiEntropyExchange.Compare(
            MerkleDigest.Build(new EdgeCollectionSource(nodeDb, Collection)), new AntiEntropyResponder(new EdgeCollectionSource(leaderDb, Collection)));

        Assert.Equal(
            [new("k-0123", KeyDifferenceKind.Different), new("k-0321", KeyDifferenceKind.MissingLocally)],
            report.Result.DifferingKeys.Select(d => (d.Key, d.Kind)).OrderBy(d => d.Key, StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task Compare_WriteOnOneReplica_ThatKeyDiffers()
    {
        (string leader, string node) = await CreateReplicasAsync(200);
        using EdgeDatabase leaderDb = EdgeDatabase.Open(leader);
        using EdgeDatabase nodeDb = EdgeDatabase.Open(node);
        await nodeDb.PatchAsync(Collection, "k-0050", "{\"t\":99}");
        await nodeDb.PutAsync(Collection, "new-key", "{\"t\":1}");

        AntiEntropyReport report = AntiEntropyExchange.Compare(
            MerkleDigest.Build(new EdgeCollectionSource(nodeDb, Collection)), new AntiEntropyResponder(new EdgeCollectionSource(leaderDb, Collection)));

        Assert.Equal(
            [new("k-0050", KeyDifferenceKind.Different), new("new-key", KeyDifferenceKind.MissingAtPeer)],
            report.Result.DifferingKeys.Select(d => (d.Key, d.Kind)).OrderBy(d => d.Key, StringComparer.Ordinal).ToArray());
    }

    /// <summary>A leader database with <paramref name="count"/> documents and a node that is a byte copy of it (same states, same HLCs).</summary>
    private async Task<(string Leader, string Node)> CreateReplicasAsync(int count)
    {
        string leader = Path.Combine(_root, "leader");
        using (EdgeDatabase database = EdgeDatabase.Open(leader))
        {
            for (int index = 0; index < count; index++)
            {
                await database.PutAsync(Collection, $"k-{index:D4}", $"{{\"t\":{index % 40},\"room\":\"r{index % 7}\"}}");
            }

            await database.DeleteAsync(Collection, "k-0001");
            await database.PutAsync(Collection, "k-0001", "{\"t\":1}");
            await database.CheckpointAsync();
        }

        string node = Path.Combine(_root, "node");
        CopyDirectory(leader, node);
        return (leader, node);
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        foreach (string directory in Directory.GetDirectories(source))
        {
            CopyDirectory(directory, Path.Combine(target, Path.GetFileName(directory)));
        }
    }
}
