using System.Runtime.InteropServices;
using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;

namespace CortexEdge.Agent.Tests.Policy;

public sealed unsafe class GpioLineEventTests
{
    [Fact]
    public void Decode_BytesOfTheKernelStruct_GivesItsFields()
    {
        // Lay the record out through the C# mirror of struct gpio_v2_line_event, as the kernel would.
        GpioUapi.LineEvent raw = default;
        raw.TimestampNs = 0x0102_0304_0506_0708;
        raw.Id = 2;
        raw.Offset = 17;
        raw.Seqno = 9;
        raw.LineSeqno = 4;
        raw.Padding[5] = 0xFFFF_FFFF; // reserved: ignored
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<GpioUapi.LineEvent>(ref raw));

        Assert.True(GpioLineEvent.TryDecode(bytes, out GpioLineEvent decoded, out string? error), error);
        Assert.Equal(new GpioLineEvent(0x0102_0304_0506_0708, GpioLineEventKind.FallingEdge, 17, 9, 4), decoded);
    }

    [Fact]
    public void Encode_ThenDecode_RoundTrips()
    {
        var original = new GpioLineEvent(123_456_789_000, GpioLineEventKind.RisingEdge, 4, 1, 1);
        Span<byte> buffer = stackalloc byte[GpioLineEvent.RecordBytes];
        buffer.Fill(0xAA);
        original.Encode(buffer);
        Assert.True(buffer[GpioLineEvent.PaddingOffset..].IndexOfAnyExcept((byte)0) < 0);
        Assert.True(GpioLineEvent.TryDecode(buffer, out GpioLineEvent decoded, out _));
        Assert.Equal(original, decoded);
    }

    [Fact]
    public void Decode_ShortBuffer_FailsNamingSizes()
    {
        Assert.False(GpioLineEvent.TryDecode(new byte[47], out _, out string? error));
        Assert.Equal("a gpio_v2_line_event needs 48 bytes, got 47", error);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(3u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Decode_UnknownEventId_FailsNamingId(uint id)
    {
        var bytes = new byte[GpioLineEvent.RecordBytes];
        new GpioLineEvent(1, GpioLineEventKind.RisingEdge, 0, 1, 1).Encode(bytes);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(GpioLineEvent.IdOffset), id);
        Assert.False(GpioLineEvent.TryDecode(bytes, out _, out string? error));
        Assert.Contains($"event id {id}", error);
    }

    [Fact]
    public void Encode_ShortDestination_Throws()
    {
        Assert.Throws<ArgumentException>(() => new GpioLineEvent(1, GpioLineEventKind.RisingEdge, 0, 1, 1).Encode(new byte[10]));
    }

    [Fact]
    public void Decode_FuzzedBytes_NeverThrowsNeverReadsPastTheRecord()
    {
        int seed = TestRandom.Seed();
        int iterations = TestRandom.FuzzIterations();
        var random = new Random(seed);
        var valid = new byte[GpioLineEvent.RecordBytes];
        new GpioLineEvent(987_654_321, GpioLineEventKind.FallingEdge, 12, 3, 2).Encode(valid);
        var buffer = new byte[GpioLineEvent.RecordBytes * 2];
        for (int i = 0; i < iterations; i++)
        {
            int length = random.Next(0, GpioLineEvent.RecordBytes * 2 + 1);
            if (random.Next(2) == 0)
            {
                random.NextBytes(buffer);
            }
            else
            {
                valid.CopyTo(buffer, 0);
                for (int m = random.Next(1, 6); m > 0; m--)
                    buffer[random.Next(GpioLineEvent.RecordBytes)] = (byte)random.Next(256);
            }
            bool decoded = GpioLineEvent.TryDecode(buffer.AsSpan(0, length), out GpioLineEvent lineEvent, out string? error);
            if (decoded)
            {
                Assert.True(length >= GpioLineEvent.RecordBytes, $"seed {seed} iteration {i}: decoded from {length} bytes");
                Assert.True(lineEvent.Kind is GpioLineEventKind.RisingEdge or GpioLineEventKind.FallingEdge, $"seed {seed} iteration {i}");
                // Bytes after the record must not matter.
                buffer.AsSpan(GpioLineEvent.RecordBytes).Fill(0x5A);
                Assert.True(GpioLineEvent.TryDecode(buffer.AsSpan(0, GpioLineEvent.RecordBytes), out GpioLineEvent again, out _), $"seed {seed} iteration {i}");
                Assert.Equal(lineEvent, again);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error), $"seed {seed} iteration {i}: no error text");
            }
        }
    }
}
