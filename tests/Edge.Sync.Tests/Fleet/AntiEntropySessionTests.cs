using CortexEdge.Sync.Fleet;
using static CortexEdge.Sync.Tests.Fleet.FleetTestSupport;

namespace CortexEdge.Sync.Tests.Fleet;

public sealed class AntiEntropySessionTests
{
    [Fact]
    public void Compare_ReplicasAgree_NoDifferenceInOneRoundTrip()
    {
        MemorySource local = MemorySource.Create(20_000, seed: 1);
        MemorySource peer = local.Clone();

        AntiEntropyReport report = AntiEntropyExchange.Compare(MerkleDigest.Build(local), new AntiEntropyResponder(peer));

        Assert.True(report.Result.InAgreement);
        Assert.Empty(report.Result.DifferingRanges);
        Assert.Equal(1, report.Result.RoundTrips);
        // Root request + root hash: a few dozen bytes against a full state of hundreds of kilobytes.
        Assert.True(report.BytesExchanged < 64, $"agreeing replicas exchanged {report.BytesExchanged} bytes");
    }

    [Fact]
    public void Compare_TenDocumentsDiffer_NamesExactlyThoseKeys()
    {
        int seed = Seed();
        MemorySource local = MemorySource.Create(20_000, seed);
        MemorySource peer = local.Clone();
        var random = new Random(seed);
        var expected = new Dictionary<string, KeyDifferenceKind>();
        while (expected.Count < 10)
        {
            string key = $"doc-{random.Next(20_000):D6}";
            if (expected.ContainsKey(key))
            {
                continue;
            }

            switch (expected.Count % 4)
            {
                case 0: // changed value, same version
                    peer.Documents[key] = (peer.Documents[key].Value + " ", peer.Documents[key].Version);
                    expected[key] = KeyDifferenceKind.Different;
                    break;
                case 1: // same value, newer version
                    peer.Documents[key] = (peer.Documents[key].Value, peer.Documents[key].Version + 1);
                    expected[key] = KeyDifferenceKind.Different;
                    break;
                case 2:
                    peer.Documents.Remove(key);
                    expected[key] = KeyDifferenceKind.MissingAtPeer;
                    break;
                default:
                    string extra = "extra-" + key;
                    peer.Documents[extra] = ("{}", 5);
                    expected[extra] = KeyDifferenceKind.MissingLocally;
                    expected[key] = KeyDifferenceKind.Different;
                    peer.Documents[key] = ("{\"x\":1}", 1);
                    break;
            }
        }

        AntiEntropyReport report = AntiEntropyExchange.Compare(MerkleDigest.Build(local), new AntiEntropyResponder(peer));

        Dictionary<string, KeyDifferenceKind> found = report.Result.DifferingKeys.ToDictionary(d => d.Key, d => d.Kind);
        Assert.True(expected.Count == found.Count && expected.All(e => found.TryGetValue(e.Key, out var kind) && kind == e.Value),
            $"seed {seed}: expected {string.Join(", ", expected)}, found {string.Join(", ", found)}");
        foreach (KeyDifference difference in report.Result.DifferingKeys)
        {
            ulong keyHash = FleetHash.Hash(difference.Key);
            Assert.InRange(keyHash, difference.Range.HashFirst, difference.Range.HashLast);
            Assert.Contains(difference.Range, report.Result.DifferingRanges);
        }

        Assert.True(report.BytesExchanged * 100 < local.FullStateBytes(),
            $"seed {seed}: {report.BytesExchanged} bytes exchanged vs {local.FullStateBytes()} full-state bytes");
    }

    [Fact]
    public void Compare_PeerEmpty_EveryLocalKeyMissingAtPeer()
    {
        MemorySource local = MemorySource.Create(300, seed: 3);

        AntiEntropyReport report = AntiEntropyExchange.Compare(MerkleDigest.Build(local), new AntiEntropyResponder(new MemorySource()));

        Assert.Equal(300, report.Result.DifferingKeys.Count);
        Assert.All(report.Result.DifferingKeys, d => Assert.Equal(KeyDifferenceKind.MissingAtPeer, d.Kind));
    }

    [Fact]
    public void Compare_SmallBatches_SameResultAsLargeBatches()
    {
        MemorySource local = MemorySource.Create(5_000, seed: 4);
        MemorySource peer = local.Clone();
        foreach (string key in local.Documents.Keys.Where((_, index) => index % 50 == 0).ToList())
        {
            peer.Documents.Remove(key);
        }

        MerkleDigest digest = MerkleDigest.Build(local);
        var responder = new AntiEntropyResponder(peer);
        var session = new AntiEntropySession(digest, batchIndexCountMax: 3);
        AntiEntropyMessage? request = session.Start();
        while (request is not null)
        {
            request = session.Receive(AntiEntropyCodec.Decode(AntiEntropyCodec.Encode(responder.Answer(request))));
        }

        AntiEntropyReport large = AntiEntropyExchange.Compare(digest, responder);
        Assert.Equal(100, session.Result!.DifferingKeys.Count);
        Assert.Equal(large.Result.DifferingKeys, session.Result.DifferingKeys);
        Assert.True(session.Result.RoundTrips > large.Result.RoundTrips);
    }

    [Fact]
    public void Receive_ReplyForAnotherLevel_ThrowsUnexpectedReply()
    {
        MerkleDigest digest = MerkleDigest.Build(MemorySource.Create(100, seed: 5));
        var session = new AntiEntropySession(digest);
        session.Start();

        var error = Assert.Throws<FleetException>(() => session.Receive(AntiEntropyMessage.DigestReply(digest.Depth, 1, new ulong[16])));

        Assert.Equal(FleetErrorCode.AntiEntropyUnexpectedReply, error.Code);
    }

    [Fact]
    public void Receive_PeerAtOtherDepth_ThrowsUnexpectedReply()
    {
        MerkleDigest digest = MerkleDigest.Build(MemorySource.Create(100, seed: 6), depth: 2);
        var session = new AntiEntropySession(digest);
        session.Start();

        var error = Assert.Throws<FleetException>(() => session.Receive(AntiEntropyMessage.DigestReply(3, 0, [1UL])));

        Assert.Equal(FleetErrorCode.AntiEntropyUnexpectedReply, error.Code);
    }

    [Fact]
    public void Answer_NodeOutsideTree_ThrowsInsteadOfReadingPastTheLevel()
    {
        var responder = new AntiEntropyResponder(MemorySource.Create(100, seed: 7));

        var error = Assert.Throws<FleetException>(() => responder.Answer(AntiEntropyMessage.BucketRequest(1, [16])));

        Assert.Equal(FleetErrorCode.AntiEntropyUnexpectedReply, error.Code);
    }
}
