using CortexEdge.Sync.Mqtt;
using Xunit.Abstractions;

namespace CortexEdge.Sync.Tests.Mqtt;

/// <summary>
/// Decoder fuzzing: random packets and mutations of valid encodings of every packet type, in both
/// protocol versions. Each one decodes or fails with the codec's own <see cref="MqttProtocolException"/>;
/// nothing else is thrown, nothing is read outside the input, and no decode allocates more than a
/// small bound over the input size however large a length it declares. Iterations: CE_FUZZ_ITERATIONS
/// (default 20,000; each iteration decodes 12 packets); seed: CE_TEST_SEED.
/// </summary>
public sealed class MqttPacketFuzzTests(ITestOutputHelper output)
{
    private const int PacketsPerIteration = 12;

    [Fact]
    public void Decode_RandomAndMutatedPackets_DecodeOrThrowProtocolErrorOnly()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("CE_FUZZ_ITERATIONS"), out int configured) ? configured : 20_000;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int fixedSeed) ? fixedSeed : Random.Shared.Next();
        var random = new Random(seed);
        var samples = new Dictionary<MqttProtocolVersion, IReadOnlyList<byte[]>>
        {
            [MqttProtocolVersion.V311] = MqttCodecSamples.ValidPackets(MqttProtocolVersion.V311),
            [MqttProtocolVersion.V500] = MqttCodecSamples.ValidPackets(MqttProtocolVersion.V500),
        };
        var outcomes = new Dictionary<string, int>();
        long decoded = 0;
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            for (int k = 0; k < PacketsPerIteration; k++)
            {
                MqttProtocolVersion version = random.Next(2) == 0 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500;
                byte[] input = k < 2 ? RandomPacket(random) : Mutate(samples[version][random.Next(samples[version].Count)], random);
                int maximum = random.Next(4) == 0 ? random.Next(2, 300) : MqttClientOptions.ProtocolPacketSizeMax;
                string outcome = DecodeOne(input, version, maximum, seed, iteration);
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                decoded++;
            }
        }

        output.WriteLine($"seed {seed}: {decoded} packets; outcomes: {string.Join(", ", outcomes.OrderByDescending(p => p.Value).Select(p => $"{p.Key}={p.Value}"))}");
        Assert.True(decoded >= (long)iterations * PacketsPerIteration, $"seed {seed}");
        // Both paths must be exercised, or the fuzzer is not testing anything.
        Assert.True(outcomes.Keys.Any(k => k.StartsWith("ok:", StringComparison.Ordinal)), $"seed {seed}: nothing decoded");
        Assert.True(outcomes.Keys.Any(k => k.StartsWith("error:", StringComparison.Ordinal)), $"seed {seed}: nothing rejected");
    }

    [Fact]
    public void Decode_EveryValidSample_RoundTripsWithoutError()
    {
        foreach (MqttProtocolVersion version in new[] { MqttProtocolVersion.V311, MqttProtocolVersion.V500 })
        {
            foreach (byte[] packet in MqttCodecSamples.ValidPackets(version))
            {
                Assert.NotEqual((MqttPacketType)0, MqttCodecSamples.DecodeAny(packet, version, MqttClientOptions.ProtocolPacketSizeMax));
                // Every proper prefix is "incomplete" or a protocol error, never another exception.
                for (int length = 0; length < packet.Length; length++)
                {
                    try
                    {
                        MqttCodecSamples.DecodeAny(packet.AsSpan(0, length), version, MqttClientOptions.ProtocolPacketSizeMax);
                    }
                    catch (MqttProtocolException)
                    {
                    }
                }
            }
        }
    }

    private static string DecodeOne(byte[] input, MqttProtocolVersion version, int maximum, int seed, int iteration)
    {
        // Decode a private copy placed inside a larger buffer with guard bytes: an over-read would
        // have to go through the span's bounds check, and the guards must stay untouched.
        var buffer = new byte[input.Length + 64];
        buffer.AsSpan().Fill(0xA5);
        input.CopyTo(buffer, 32);
        ReadOnlySpan<byte> packet = buffer.AsSpan(32, input.Length);
        long before = GC.GetAllocatedBytesForCurrentThread();
        string outcome;
        try
        {
            MqttPacketType type = MqttCodecSamples.DecodeAny(packet, version, maximum);
            outcome = type == 0 ? "incomplete" : "ok:" + type;
        }
        catch (MqttProtocolException exception)
        {
            outcome = "error:" + exception.Code;
        }
        catch (Exception exception)
        {
            throw new Xunit.Sdk.XunitException($"seed {seed} iteration {iteration}: {version} input {Convert.ToHexString(input)} threw {exception}");
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long bound = 64 * 1024 + (16L * input.Length);
        Assert.True(allocated <= bound, $"seed {seed} iteration {iteration}: decoding {input.Length} bytes allocated {allocated} bytes (bound {bound}); input {Convert.ToHexString(input)}");
        Assert.True(buffer.AsSpan(0, 32).IndexOfAnyExcept((byte)0xA5) < 0 && buffer.AsSpan(32 + input.Length).IndexOfAnyExcept((byte)0xA5) < 0, $"seed {seed}: guard bytes changed");
        return outcome;
    }

    private static byte[] RandomPacket(Random random)
    {
        int length = random.Next(0, 64);
        var packet = new byte[length];
        random.NextBytes(packet);
        if (length > 1 && random.Next(2) == 0)
        {
            // A plausible header makes the body decoders run instead of stopping at the first byte.
            packet[0] = (byte)((random.Next(1, 16) << 4) | (random.Next(3) == 0 ? random.Next(16) : 0));
            packet[1] = (byte)Math.Min(127, length - 2);
        }

        return packet;
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        var packet = new List<byte>(valid);
        int mutations = random.Next(1, 4);
        for (int m = 0; m < mutations; m++)
        {
            switch (random.Next(7))
            {
                case 0 when packet.Count > 0:
                    packet[random.Next(packet.Count)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when packet.Count > 0:
                    packet[random.Next(packet.Count)] = (byte)random.Next(256);
                    break;
                case 2 when packet.Count > 1:
                    packet.RemoveRange(random.Next(1, packet.Count), 1);
                    if (packet.Count > 1)
                    {
                        packet[1] = (byte)Math.Max(0, packet[1] - 1);
                    }

                    break;
                case 3:
                    packet.Insert(random.Next(packet.Count + 1), (byte)random.Next(256));
                    break;
                case 4 when packet.Count > 1:
                    // Declare a huge remaining length: the decoder must not trust it.
                    packet.RemoveRange(1, 1);
                    packet.InsertRange(1, new byte[] { 0xFF, 0xFF, 0xFF, 0x7F });
                    break;
                case 5 when packet.Count > 0:
                    int keep = random.Next(packet.Count);
                    packet.RemoveRange(keep, packet.Count - keep);
                    break;
                default:
                    for (int i = random.Next(1, 8); i > 0; i--)
                    {
                        packet.Add((byte)random.Next(256));
                    }

                    if (packet.Count > 1 && packet[1] < 0x80)
                    {
                        packet[1] = (byte)Math.Min(127, packet.Count - 2);
                    }

                    break;
            }
        }

        return [.. packet];
    }
}
