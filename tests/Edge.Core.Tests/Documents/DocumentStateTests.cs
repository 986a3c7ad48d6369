using System.Text.Json;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.Documents;
using CortexEdge.Core.Tests.Wal;

namespace CortexEdge.Core.Tests.Documents;

public sealed class DocumentStateTests
{
    private static DocumentOperation Op(DocumentOperationKind kind, string json = "{}") =>
        DocumentCodec.Decode(DocumentCodecTests.Encode(kind, "c", "k", json), "test");

    private static HlcTimestamp T(long ms, ulong replica = 1) => HlcTimestamp.Create(ms, 0, replica);

    [Fact]
    public void Put_ReplacesOlderFields_PatchKeepsOthers_NullRemoves()
    {
        var state = new DocumentState();
        state.Apply(Op(DocumentOperationKind.Put, "{\"a\":1,\"b\":2}"), T(10));
        state.Apply(Op(DocumentOperationKind.Patch, "{\"b\":3,\"c\":4}"), T(11));
        Assert.Equal("{\"a\":1,\"b\":3,\"c\":4}", state.ToJson());
        state.Apply(Op(DocumentOperationKind.Patch, "{\"a\":null}"), T(12));
        Assert.Equal("{\"b\":3,\"c\":4}", state.ToJson());
        state.Apply(Op(DocumentOperationKind.Put, "{\"z\":true}"), T(13));
        Assert.Equal("{\"z\":true}", state.ToJson());
        state.Apply(Op(DocumentOperationKind.Delete), T(14));
        Assert.False(state.Exists);
        state.Apply(Op(DocumentOperationKind.Patch, "{\"late\":1}"), T(13, 2)); // concurrent older patch stays hidden
        Assert.False(state.Exists);
        state.Apply(Op(DocumentOperationKind.Patch, "{\"new\":1}"), T(15));
        Assert.True(state.Exists);
        Assert.Equal("{\"new\":1}", state.ToJson());
    }

    [Fact]
    public void EmptyPut_Exists_PatchOnlyRemovingOnAbsentDoesNot()
    {
        var put = new DocumentState();
        put.Apply(Op(DocumentOperationKind.Put, "{}"), T(1));
        Assert.True(put.Exists);
        Assert.Equal("{}", put.ToJson());
        var removeOnly = new DocumentState();
        removeOnly.Apply(Op(DocumentOperationKind.Patch, "{\"x\":null}"), T(1));
        Assert.False(removeOnly.Exists);
    }

    [Fact]
    public void AnyOrderOfOps_AndAnySplitIntoMergedStates_GivesTheSameDocument()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        int schedules = TestRandom.Iterations("CE_CRDT_SCHEDULES", 10_000) / 10;
        string[] fields = ["a", "b", "c", "d"];
        for (int s = 0; s < schedules; s++)
        {
            var ops = new List<(DocumentOperation Op, HlcTimestamp At)>();
            int count = random.Next(1, 12);
            for (int i = 0; i < count; i++)
            {
                var kind = (DocumentOperationKind)random.Next(1, 4);
                string json = "{" + string.Join(",", fields.Where(_ => random.Next(2) == 0).Select(f => $"\"{f}\":{(kind == DocumentOperationKind.Patch && random.Next(4) == 0 ? "null" : random.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture))}")) + "}";
                ops.Add((Op(kind, json), HlcTimestamp.Create(random.Next(1, 20), random.Next(3), (ulong)random.Next(1, 4))));
            }

            ops = [.. ops.DistinctBy(o => o.At)]; // one op per timestamp, as HLCs guarantee
            var reference = new DocumentState();
            foreach (var (op, at) in ops)
            {
                reference.Apply(op, at);
            }

            var shuffled = ops.OrderBy(_ => random.Next()).ToList();
            int split = random.Next(shuffled.Count + 1);
            var left = new DocumentState();
            var right = new DocumentState();
            foreach (var (op, at) in shuffled.Take(split))
            {
                left.Apply(op, at);
            }

            foreach (var (op, at) in shuffled.Skip(split))
            {
                right.Apply(op, at);
            }

            DocumentState roundTripped = DocumentState.Decode(right.Encode(), "test");
            left.Merge(roundTripped);
            left.Merge(roundTripped); // idempotent
            string context = $"seed {seed}, schedule {s}";
            Assert.True(reference.Exists == left.Exists, context);
            Assert.True(reference.ToJson() == left.ToJson(), $"{context}: {reference.ToJson()} vs {left.ToJson()}");
            Assert.Equal(reference.LastChange, left.LastChange);
        }
    }

    [Fact]
    public void Decode_Fuzzed_ThrowsOnlyDocumentMalformedCorruption()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        int iterations = TestRandom.Iterations("CE_FUZZ_ITERATIONS", 20_000);
        var state = new DocumentState();
        state.Apply(Op(DocumentOperationKind.Put, "{\"a\":1,\"b\":[true,null],\"c\":\"x\"}"), T(5));
        state.Apply(Op(DocumentOperationKind.Patch, "{\"a\":null,\"d\":{\"e\":1}}"), T(6));
        byte[] valid = state.Encode();
        for (int i = 0; i < iterations; i++)
        {
            byte[] input = (byte[])valid.Clone();
            if (i % 5 == 0)
            {
                input = new byte[random.Next(0, 100)];
                random.NextBytes(input);
            }
            else
            {
                for (int m = random.Next(1, 4); m > 0 && input.Length > 0; m--)
                {
                    int at = random.Next(input.Length);
                    switch (random.Next(3))
                    {
                        case 0: input[at] ^= (byte)(1 << random.Next(8)); break;
                        case 1: input = input[..at]; break;
                        default: input[at] = (byte)random.Next(256); break;
                    }
                }
            }

            try
            {
                DocumentState decoded = DocumentState.Decode(input, "fuzz");
                using JsonDocument json = JsonDocument.Parse(decoded.ToJsonUtf8()); // materializes valid JSON
                Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
            }
            catch (EdgeCorruptionException error)
            {
                Assert.True(error.Code == EdgeErrorCode.DocumentMalformed, $"seed {seed}, iteration {i}: {error.Code}");
            }
        }
    }
}
