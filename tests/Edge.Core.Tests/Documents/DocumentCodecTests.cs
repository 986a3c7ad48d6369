using System.Buffers;
using System.Text;
using System.Text.Json;
using CortexEdge.Core.Documents;
using CortexEdge.Core.Tests.Wal;

namespace CortexEdge.Core.Tests.Documents;

public sealed class DocumentCodecTests
{
    internal static byte[] Encode(DocumentOperationKind kind, string collection, string key, string json)
    {
        var buffer = new ArrayBufferWriter<byte>();
        if (kind == DocumentOperationKind.Delete)
        {
            DocumentCodec.EncodeDelete(buffer, collection, key);
        }
        else
        {
            using JsonDocument document = JsonDocument.Parse(json);
            DocumentCodec.EncodeFromJson(buffer, kind, collection, key, document.RootElement);
        }

        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void PutAndPatch_RoundTrip_WithRemovalsAndUnicode()
    {
        byte[] put = Encode(DocumentOperationKind.Put, "sensors", "köln/1", "{\"t\":21.5,\"tags\":[\"a\",{\"b\":null}],\"name\":\"\\u00e9\"}");
        DocumentOperation decoded = DocumentCodec.Decode(put, "test");
        Assert.Equal(DocumentOperationKind.Put, decoded.Kind);
        Assert.Equal("sensors", decoded.Collection);
        Assert.Equal("köln/1", decoded.Key);
        Assert.Equal(["t", "tags", "name"], decoded.Fields.Select(f => f.Name));
        Assert.Equal("[\"a\",{\"b\":null}]", Encoding.UTF8.GetString(decoded.Fields[1].Utf8JsonValue.Span));

        DocumentOperation patch = DocumentCodec.Decode(Encode(DocumentOperationKind.Patch, "c", "k", "{\"gone\":null,\"kept\":1}"), "test");
        Assert.True(patch.Fields[0].IsRemoval);
        Assert.False(patch.Fields[1].IsRemoval);

        DocumentOperation delete = DocumentCodec.Decode(Encode(DocumentOperationKind.Delete, "c", "k", ""), "test");
        Assert.Equal(DocumentOperationKind.Delete, delete.Kind);
        Assert.Empty(delete.Fields);
    }

    [Fact]
    public void Encode_RejectsNonObjectsAndBadNames()
    {
        Assert.Equal(EdgeErrorCode.DocumentInvalid, Assert.Throws<EdgeException>(() => Encode(DocumentOperationKind.Put, "c", "k", "[1]")).Code);
        Assert.Equal(EdgeErrorCode.DocumentKeyInvalid, Assert.Throws<EdgeException>(() => Encode(DocumentOperationKind.Put, "c", "", "{}")).Code);
        Assert.Equal(EdgeErrorCode.DocumentKeyInvalid, Assert.Throws<EdgeException>(() => Encode(DocumentOperationKind.Put, "", "k", "{}")).Code);
        Assert.Equal(EdgeErrorCode.DocumentKeyInvalid, Assert.Throws<EdgeException>(() => Encode(DocumentOperationKind.Put, "c", "bad\ud800", "{}")).Code);
        Assert.Equal(EdgeErrorCode.DocumentKeyInvalid, Assert.Throws<EdgeException>(() => Encode(DocumentOperationKind.Put, "c", new string('k', DocumentLimits.KeyBytesMax + 1), "{}")).Code);
    }

    [Fact]
    public void Decode_Fuzzed_ThrowsOnlyDocumentMalformedCorruption()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        int iterations = TestRandom.Iterations("CE_FUZZ_ITERATIONS", 20_000);
        byte[][] valid =
        [
            Encode(DocumentOperationKind.Put, "sensors", "s-1", "{\"t\":21.5,\"on\":true,\"tags\":[1,2,{\"x\":\"y\"}]}"),
            Encode(DocumentOperationKind.Patch, "c", "k", "{\"a\":null,\"b\":\"text\"}"),
            Encode(DocumentOperationKind.Delete, "c", "k", ""),
        ];
        int decodedCount = 0;
        for (int i = 0; i < iterations; i++)
        {
            byte[] input;
            if (i % 4 == 0)
            {
                input = new byte[random.Next(0, 80)];
                random.NextBytes(input);
                if (input.Length > 1)
                {
                    input[0] = DocumentCodec.FormatVersion;
                    input[1] = (byte)random.Next(0, 5);
                }
            }
            else
            {
                input = (byte[])valid[random.Next(valid.Length)].Clone();
                int mutations = random.Next(1, 4);
                for (int m = 0; m < mutations && input.Length > 0; m++)
                {
                    switch (random.Next(4))
                    {
                        case 0:
                            input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                            break;
                        case 1:
                            input[random.Next(input.Length)] = (byte)random.Next(256);
                            break;
                        case 2:
                            input = input[..random.Next(input.Length)];
                            break;
                        default:
                            input = [.. input, (byte)random.Next(256)];
                            break;
                    }
                }
            }

            try
            {
                DocumentOperation operation = DocumentCodec.Decode(input, "fuzz");
                decodedCount++;
                Assert.False(string.IsNullOrEmpty(operation.Key), $"seed {seed}, iteration {i}");
            }
            catch (EdgeCorruptionException error)
            {
                Assert.True(error.Code == EdgeErrorCode.DocumentMalformed, $"seed {seed}, iteration {i}: {error.Code}");
                Assert.StartsWith("fuzz", error.Location);
            }
        }

        Assert.True(decodedCount > 0, $"seed {seed}: some mutations (e.g. of a value byte) still decode");
    }
}
