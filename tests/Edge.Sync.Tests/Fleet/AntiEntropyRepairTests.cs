using CortexEdge.Core;
using CortexEdge.Core.Documents;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Fleet;

namespace CortexEdge.Sync.Tests.Fleet;

/// <summary>Repair decisions over real databases: the newer version by HLC wins, deletes included; local-only fields are neither divergence nor lost.</summary>
public sealed class AntiEntropyRepairTests : IDisposable
{
    private const string Collection = "sensors";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-fleet-rep-" + Guid.NewGuid().ToString("N")[..12]);

    public AntiEntropyRepairTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Repair_NewerSideWins_DeletesIncluded_NothingResurrected()
    {
        string leaderDirectory = Path.Combine(_root, "leader");
        using (EdgeDatabase seed = EdgeDatabase.Open(leaderDirectory))
        {
            for (int index = 1; index <= 5; index++)
            {
                await seed.PutAsync(Collection, $"k-{index}", $"{{\"t\":{index}}}");
            }

            await seed.CheckpointAsync();
        }

        string nodeDirectory = Path.Combine(_root, "node");
        foreach (string file in Directory.GetFiles(leaderDirectory, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(nodeDirectory, Path.GetRelativePath(leaderDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        using EdgeDatabase leader = EdgeDatabase.Open(leaderDirectory);
        using EdgeDatabase node = EdgeDatabase.Open(nodeDirectory);
        await node.DeleteAsync(Collection, "k-1");              // node deleted later: stays deleted
        await leader.DeleteAsync(Collection, "k-2");            // leader deleted later: deleted on the node
        await node.PatchAsync(Collection, "k-3", "{\"t\":30}");   // node changed later: resent
        await leader.PatchAsync(Collection, "k-4", "{\"t\":40}"); // leader changed later: taken

        var peer = new EdgeCollectionSource(leader, Collection);
        AntiEntropyReport report = AntiEntropyExchange.Compare(MerkleDigest.Build(new EdgeCollectionSource(node, Collection)), new AntiEntropyResponder(peer));
        IReadOnlyList<RepairedKey> repaired = await AntiEntropyRepair.RepairAsync(node, Collection, report.Result,
            (keys, _) => Task.FromResult<IReadOnlyList<AntiEntropyDocument>>(keys.Select(peer.GetDocument).ToArray()));

        Assert.Equal(
            [
                ("k-1", KeyDifferenceKind.MissingLocally, RepairAction.ResentLocalVersion),
                ("k-2", KeyDifferenceKind.MissingAtPeer, RepairAction.TookPeerVersion),
                ("k-3", KeyDifferenceKind.Different, RepairAction.ResentLocalVersion),
                ("k-4", KeyDifferenceKind.Different, RepairAction.TookPeerVersion),
            ],
            repaired.Select(r => (r.Key, r.Difference, r.Action)).OrderBy(r => r.Key, StringComparer.Ordinal).ToArray());
        Assert.Null(node.Get(Collection, "k-1"));
        Assert.Null(node.Get(Collection, "k-2"));
        Assert.Equal("{\"t\":30}", node.Get(Collection, "k-3")!.ToJsonString());
        Assert.Equal("{\"t\":40}", node.Get(Collection, "k-4")!.ToJsonString());
        Assert.Equal("{\"t\":5}", node.Get(Collection, "k-5")!.ToJsonString());
    }

    [Fact]
    public async Task LocalOnlyFields_NotDivergence_AndKeptWhenThePeersVersionIsTaken()
    {
        using EdgeDatabase node = EdgeDatabase.Open(Path.Combine(_root, "node"));
        using EdgeDatabase leader = EdgeDatabase.Open(Path.Combine(_root, "leader"));
        await node.PutAsync("patients", "p1", "{\"temp\":37.1,\"patientId\":\"X-991\"}");
        // What sync delivers to the leader: the same op without the local-only field.
        DocumentChange change = Assert.Single(node.ReadChanges(1));
        Assert.Equal(RemoteApplyStatus.Applied, await leader.ApplyRemoteAsync(WalRecordKind.Document, change.Header, change.Operation.WithoutFields(["patientId"]).Encode()));
        string[] localOnly = ["patientId"];

        Assert.False(AntiEntropyExchange.Compare(MerkleDigest.Build(new EdgeCollectionSource(node, "patients")), new AntiEntropyResponder(new EdgeCollectionSource(leader, "patients"))).Result.InAgreement);
        var peer = new EdgeCollectionSource(leader, "patients", localOnly);
        Assert.True(AntiEntropyExchange.Compare(MerkleDigest.Build(new EdgeCollectionSource(node, "patients", localOnly)), new AntiEntropyResponder(peer)).Result.InAgreement);

        await leader.PatchAsync("patients", "p1", "{\"temp\":38.4}");
        AntiEntropyReport report = AntiEntropyExchange.Compare(MerkleDigest.Build(new EdgeCollectionSource(node, "patients", localOnly)), new AntiEntropyResponder(peer));
        RepairedKey repaired = Assert.Single(await AntiEntropyRepair.RepairAsync(node, "patients", report.Result,
            (keys, _) => Task.FromResult<IReadOnlyList<AntiEntropyDocument>>(keys.Select(peer.GetDocument).ToArray()), localOnly));

        Assert.Equal(RepairAction.TookPeerVersion, repaired.Action);
        Assert.Equal("{\"patientId\":\"X-991\",\"temp\":38.4}", node.Get("patients", "p1")!.ToJsonString());
    }
}
