using CortexEdge.Sync.Fleet;

namespace CortexEdge.Sync.Tests.Fleet;

public sealed class AntiEntropyCodecTests
{
    [Fact]
    public void Decode_EncodedMessages_RoundTrip()
    {
        foreach (AntiEntropyMessage message in SampleMessages())
        {
            byte[] encoded = AntiEntropyCodec.Encode(message);
            AntiEntropyMessage decoded = AntiEntropyCodec.Decode(encoded);

            Assert.Equal(message.Kind, decoded.Kind);
            Assert.Equal(message.Depth, decoded.Depth);
            Assert.Equal(message.Level, decoded.Level);
            Assert.Equal(message.Indices, decoded.Indices);
            Assert.Equal(message.Hashes, decoded.Hashes);
            Assert.Equal(message.BucketCounts, decoded.BucketCounts);
            Assert.Equal(message.Items, decoded.Items);
            Assert.Equal(message.Keys, decoded.Keys);
            Assert.Equal(
                message.Documents.Select(d => (d.Key, d.Present, d.Version, Convert.ToHexString(d.Utf8Json.Span))),
                decoded.Documents.Select(d => (d.Key, d.Present, d.Version, Convert.ToHexString(d.Utf8Json.Span))));
            Assert.Equal(encoded, AntiEntropyCodec.Encode(decoded));
        }
    }

    [Fact]
    public void Decode_NewerVersion_ThrowsVersionUnsupported()
    {
        byte[] encoded = AntiEntropyCodec.Encode(SampleMessages()[0]);
        encoded[0] = AntiEntropyCodec.FormatVersion + 1;

        var error = Assert.Throws<FleetProtocolException>(() => AntiEntropyCodec.Decode(encoded));

        Assert.Equal(FleetErrorCode.AntiEntropyVersionUnsupported, error.Code);
    }

    [Fact]
    public void Decode_EveryTruncation_ThrowsMalformed()
    {
        foreach (AntiEntropyMessage message in SampleMessages())
        {
            byte[] encoded = AntiEntropyCodec.Encode(message);
            for (int length = 0; length < encoded.Length; length++)
            {
                var error = Assert.Throws<FleetProtocolException>(() => AntiEntropyCodec.Decode(encoded.AsSpan(0, length)));
                Assert.InRange(error.Offset, 0, length);
            }
        }
    }

    [Fact]
    public void Decode_IndexBeyondLevel_Throws()
    {
        // Depth 1 has 16 leaves: a bucket request for leaf 16 must not decode.
        byte[] encoded = [AntiEntropyCodec.FormatVersion, (byte)AntiEntropyMessageKind.BucketRequest, 1, 0, 1, 16];

        Assert.False(AntiEntropyCodec.TryDecode(encoded, out _, out FleetProtocolException? error));
        Assert.Contains("outside", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_ForgedHugeItemCount_ThrowsWithoutAllocating()
    {
        byte[] encoded = [AntiEntropyCodec.FormatVersion, (byte)AntiEntropyMessageKind.BucketReply, 1, 0, 1, 0x80, 0x80, 0x40];

        Assert.Throws<FleetProtocolException>(() => AntiEntropyCodec.Decode(encoded));
    }

    [Fact]
    public void Decode_RandomAndMutatedInputs_ThrowTypedErrorOrDecodeNeverCrash()
    {
        int seed = FleetTestSupport.Seed();
        int iterations = FleetTestSupport.FuzzIterations();
        var random = new Random(seed);
        byte[][] valid = SampleMessages().Select(AntiEntropyCodec.Encode).ToArray();
        int decoded = 0;
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            byte[] input;
            if (iteration % 4 == 0)
            {
                input = new byte[random.Next(0, 64)];
                random.NextBytes(input);
                if (input.Length > 0)
                {
                    input[0] = AntiEntropyCodec.FormatVersion;
                }
            }
            else
            {
                input = (byte[])valid[random.Next(valid.Length)].Clone();
                int mutations = random.Next(1, 4);
                for (int mutation = 0; mutation < mutations && input.Length > 0; mutation++)
                {
                    input[random.Next(input.Length)] = (byte)random.Next(256);
                }

                if (random.Next(4) == 0)
                {
                    input = input.AsSpan(0, random.Next(input.Length + 1)).ToArray();
                }
            }

            try
            {
                AntiEntropyMessage message = AntiEntropyCodec.Decode(input);
                // What decodes re-encodes to the same bytes: the encoding is canonical.
                Assert.True(AntiEntropyCodec.Encode(message).AsSpan().SequenceEqual(input), $"seed {seed}, iteration {iteration}: re-encoding differs");
                decoded++;
            }
            catch (FleetProtocolException exception)
            {
                Assert.True(exception.Offset >= 0 && exception.Offset <= input.Length, $"seed {seed}, iteration {iteration}: offset {exception.Offset} outside input of {input.Length}");
            }
            catch (Exception exception)
            {
                Assert.Fail($"seed {seed}, iteration {iteration}: {exception.GetType().Name}: {exception.Message}");
            }
        }

        Assert.True(decoded > 0, $"seed {seed}: no mutated input decoded; the fuzzer explores nothing valid");
    }

    [Fact]
    public void DecodeEnvelope_RandomAndMutatedInputs_ThrowTypedErrorOrRoundTrip()
    {
        int seed = FleetTestSupport.Seed();
        var random = new Random(seed);
        byte[][] valid = SampleMessages().Select(message => new AntiEntropyEnvelope(300, "sensors", message).Encode()).ToArray();
        Assert.All(valid, bytes => Assert.Equal("sensors", AntiEntropyEnvelope.Decode(bytes).Collection));
        for (int iteration = 0; iteration < FleetTestSupport.FuzzIterations() / 4; iteration++)
        {
            byte[] input = (byte[])valid[random.Next(valid.Length)].Clone();
            input[random.Next(input.Length)] = (byte)random.Next(256);
            if (random.Next(3) == 0)
            {
                input = input.AsSpan(0, random.Next(input.Length + 1)).ToArray();
            }

            try
            {
                AntiEntropyEnvelope envelope = AntiEntropyEnvelope.Decode(input);
                Assert.True(envelope.Encode().AsSpan().SequenceEqual(input), $"seed {seed}, iteration {iteration}: re-encoding differs");
            }
            catch (FleetProtocolException exception)
            {
                Assert.True(exception.Offset >= 0 && exception.Offset <= input.Length, $"seed {seed}, iteration {iteration}: offset {exception.Offset}");
            }
            catch (Exception exception)
            {
                Assert.Fail($"seed {seed}, iteration {iteration}: {exception.GetType().Name}: {exception.Message}");
            }
        }
    }

    private static AntiEntropyMessage[] SampleMessages() =>
    [
        AntiEntropyMessage.DigestRequest(4, 0, [0]),
        AntiEntropyMessage.DigestRequest(4, 3, [0, 7, 255]),
        AntiEntropyMessage.DigestReply(4, 2, [ulong.MaxValue, 0, 0x0123456789ABCDEF]),
        AntiEntropyMessage.BucketRequest(2, [1, 2, 200]),
        AntiEntropyMessage.BucketReply(2, [2, 0, 1], [new AntiEntropyItem("a", 1), new AntiEntropyItem("ключ", 2), new AntiEntropyItem("z", ulong.MaxValue)]),
        AntiEntropyMessage.DocumentRequest(3, ["k-0123", "ключ"]),
        AntiEntropyMessage.DocumentReply(3,
        [
            new AntiEntropyDocument("k-0123", true, 0x0123456789ABCDEF, "{\"t\":23}"u8.ToArray()),
            new AntiEntropyDocument("gone", false, 42, ReadOnlyMemory<byte>.Empty),
            new AntiEntropyDocument("never", false, 0, ReadOnlyMemory<byte>.Empty),
        ]),
    ];
}
