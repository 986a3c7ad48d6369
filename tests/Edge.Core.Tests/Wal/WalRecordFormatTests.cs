using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

public sealed class WalRecordFormatTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(300)]
    public void Encode_ThenCheck_RoundTripsEveryField(int payloadLength)
    {
        byte[] payload = new byte[payloadLength];
        new Random(payloadLength).NextBytes(payload);
        byte[] buffer = new byte[WalRecordFormat.EncodedLength(payloadLength) + 64];
        uint crc = WalRecordFormat.Encode(buffer, 42, WalRecordKind.Document, payload);

        Assert.Equal(WalRecordStatus.Valid, WalRecordFormat.Check(buffer, 42, out WalRecordHeader header));
        Assert.Equal(42, header.Lsn);
        Assert.Equal(WalRecordKind.Document, header.Kind);
        Assert.Equal(payloadLength, header.PayloadLength);
        Assert.Equal(crc, header.Crc);
        Assert.Equal(0, header.EncodedLength % WalRecordFormat.Alignment);
        Assert.Equal(payload, buffer.AsSpan(WalRecordFormat.HeaderBytes, payloadLength).ToArray());
    }

    [Fact]
    public void Check_WrongExpectedLsn_IsBadLsn()
    {
        byte[] buffer = new byte[64];
        WalRecordFormat.Encode(buffer, 7, WalRecordKind.Document, [1, 2, 3]);
        Assert.Equal(WalRecordStatus.BadLsn, WalRecordFormat.Check(buffer, 8, out _));
    }

    [Fact]
    public void Check_ZeroedSlot_IsEmpty()
    {
        Assert.Equal(WalRecordStatus.Empty, WalRecordFormat.Check(new byte[64], 1, out _));
        Assert.Equal(WalRecordStatus.Empty, WalRecordFormat.Check(new byte[8], 1, out _));
    }

    [Fact]
    public void Check_RecordLongerThanRemainingSegment_IsBadLength()
    {
        byte[] buffer = new byte[128];
        WalRecordFormat.Encode(buffer, 1, WalRecordKind.Document, new byte[100]);
        Assert.Equal(WalRecordStatus.BadLength, WalRecordFormat.Check(buffer.AsSpan(0, 64), 1, out _));
    }

    [Fact]
    public void Check_EverySingleBitFlip_IsDetected()
    {
        byte[] buffer = new byte[WalRecordFormat.EncodedLength(37)];
        byte[] payload = new byte[37];
        new Random(1).NextBytes(payload);
        WalRecordFormat.Encode(buffer, 3, WalRecordKind.TimeSeriesBatch, payload);
        for (int bit = 0; bit < buffer.Length * 8; bit++)
        {
            buffer[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(WalRecordStatus.Valid, WalRecordFormat.Check(buffer, 3, out _));
            buffer[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }

    [Fact]
    public void Check_RandomAndMutatedInputs_ReturnStatusWithoutThrowingOrOverReading()
    {
        int seed = TestRandom.Seed();
        int iterations = TestRandom.Iterations("CE_FUZZ_ITERATIONS", 20000);
        var random = new Random(seed);
        byte[] valid = new byte[256];
        int validCount = 0;
        for (int i = 0; i < iterations; i++)
        {
            int payloadLength = random.Next(0, 200);
            byte[] payload = new byte[payloadLength];
            random.NextBytes(payload);
            int length = (int)WalRecordFormat.EncodedLength(payloadLength);
            WalRecordFormat.Encode(valid, i + 1, WalRecordKind.Document, payload);
            byte[] input = random.Next(4) == 0 ? RandomBytes(random) : Mutate(random, valid.AsSpan(0, length).ToArray());

            // A bounded copy: an over-read would run past the array and throw.
            WalRecordStatus status = WalRecordFormat.Check(input, 0, out WalRecordHeader header);
            if (status == WalRecordStatus.Valid)
            {
                validCount++;
                Assert.True(header.EncodedLength <= input.Length, $"seed {seed}: valid record longer than its input");
                Assert.True(header.Lsn > 0, $"seed {seed}: valid record with LSN {header.Lsn}");
            }
        }

        Assert.True(validCount < iterations, $"seed {seed}: every fuzzed input passed the check");
    }

    private static byte[] RandomBytes(Random random)
    {
        byte[] bytes = new byte[random.Next(0, 300)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] bytes)
    {
        switch (random.Next(4))
        {
            case 0:
                bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 1:
                return bytes[..random.Next(bytes.Length)];
            case 2:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            default:
                return bytes; // unmutated: must stay valid
        }
    }
}
