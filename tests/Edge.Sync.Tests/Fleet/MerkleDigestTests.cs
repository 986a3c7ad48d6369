using CortexEdge.Sync.Fleet;
using static CortexEdge.Sync.Tests.Fleet.FleetTestSupport;

namespace CortexEdge.Sync.Tests.Fleet;

public sealed class MerkleDigestTests
{
    [Fact]
    public void Build_SameItemsInAnyOrder_SameHashesAtEveryLevel()
    {
        MemorySource source = MemorySource.Create(2_000, seed: 11);
        var shuffled = new ListSource(source.ReadItems().OrderBy(item => item.Hash).ToList());

        MerkleDigest first = MerkleDigest.Build(source, depth: 3);
        MerkleDigest second = MerkleDigest.Build(shuffled, depth: 3);

        for (int level = 0; level <= 3; level++)
        {
            Assert.True(first.GetLevel(level).SequenceEqual(second.GetLevel(level)), $"level {level} differs");
        }
    }

    [Fact]
    public void Build_EveryItemLandsInTheLeafOfItsKeyHash()
    {
        MerkleDigest digest = MerkleDigest.Build(MemorySource.Create(1_000, seed: 12), depth: 2);

        int total = 0;
        for (int leaf = 0; leaf < digest.LeafCount; leaf++)
        {
            var range = new MerkleRange(2, leaf);
            foreach (AntiEntropyItem item in digest.GetBucket(leaf))
            {
                Assert.InRange(FleetHash.Hash(item.Key), range.HashFirst, range.HashLast);
                total++;
            }
        }

        Assert.Equal(1_000, total);
        Assert.Equal(256, digest.LeafCount);
    }

    [Fact]
    public void Build_OneValueChanged_RootAndOnePathChange()
    {
        MemorySource source = MemorySource.Create(1_000, seed: 13);
        MerkleDigest before = MerkleDigest.Build(source, depth: 2);
        source.Documents["doc-000042"] = ("changed", 1);
        MerkleDigest after = MerkleDigest.Build(source, depth: 2);

        Assert.NotEqual(before.RootHash, after.RootHash);
        int changedLeaves = Enumerable.Range(0, before.LeafCount).Count(leaf => before.GetHash(2, leaf) != after.GetHash(2, leaf));
        Assert.Equal(1, changedLeaves);
    }

    [Fact]
    public void Build_DuplicateKey_ThrowsNamingIt()
    {
        var source = new ListSource([new AntiEntropyItem("a", 1), new AntiEntropyItem("a", 2)]);

        var error = Assert.Throws<FleetException>(() => MerkleDigest.Build(source, depth: 1));

        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(32, 1)]
    [InlineData(33, 2)]
    [InlineData(100_000, 4)]
    [InlineData(100_000_000, MerkleDigest.DepthMax)]
    public void DepthFor_ItemCount_AboutTwoItemsPerLeaf(long count, int expectedDepth) =>
        Assert.Equal(expectedDepth, MerkleDigest.DepthFor(count));

    private sealed class ListSource(List<AntiEntropyItem> items) : IAntiEntropySource
    {
        public IEnumerable<AntiEntropyItem> ReadItems() => items;
    }
}
