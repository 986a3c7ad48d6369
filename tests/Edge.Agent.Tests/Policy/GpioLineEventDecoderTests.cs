using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;

namespace CortexEdge.Agent.Tests.Policy;

public sealed class GpioLineEventDecoderTests
{
    private static byte[] Encode(params GpioLineEvent[] events)
    {
        var bytes = new byte[events.Length * GpioLineEvent.RecordBytes];
        for (int i = 0; i < events.Length; i++)
            events[i].Encode(bytes.AsSpan(i * GpioLineEvent.RecordBytes));
        return bytes;
    }

    private static GpioLineEvent[] Events(int count)
    {
        var events = new GpioLineEvent[count];
        for (int i = 0; i < count; i++)
            events[i] = new GpioLineEvent((ulong)(i + 1) * 1_000_000, i % 2 == 0 ? GpioLineEventKind.RisingEdge : GpioLineEventKind.FallingEdge, 17, (uint)i + 1, (uint)i + 1);
        return events;
    }

    [Fact]
    public void Feed_RandomChunking_YieldsEveryEventInOrder()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        GpioLineEvent[] events = Events(40);
        byte[] stream = Encode(events);
        for (int round = 0; round < 200; round++)
        {
            var decoder = new GpioLineEventDecoder();
            var seen = new List<GpioLineEvent>();
            int position = 0;
            while (position < stream.Length)
            {
                int take = Math.Min(random.Next(0, 120), stream.Length - position);
                Assert.True(decoder.Feed(stream.AsSpan(position, take), seen.Add, out string? error), $"seed {seed} round {round}: {error}");
                position += take;
            }
            Assert.True(events.SequenceEqual(seen), $"seed {seed} round {round}: events differ");
            Assert.Equal(0, decoder.PendingBytes);
        }
    }

    [Fact]
    public void Feed_PartialRecord_HeldUntilComplete()
    {
        byte[] stream = Encode(Events(1));
        var decoder = new GpioLineEventDecoder();
        var seen = new List<GpioLineEvent>();
        Assert.True(decoder.Feed(stream.AsSpan(0, 47), seen.Add, out _));
        Assert.Empty(seen);
        Assert.Equal(47, decoder.PendingBytes);
        Assert.True(decoder.Feed(stream.AsSpan(47), seen.Add, out _));
        Assert.Single(seen);
    }

    [Fact]
    public void Feed_MalformedSecondRecord_ErrorNamesStreamOffset()
    {
        byte[] stream = Encode(Events(3));
        stream[GpioLineEvent.RecordBytes + GpioLineEvent.IdOffset] = 9;
        var decoder = new GpioLineEventDecoder();
        var seen = new List<GpioLineEvent>();
        Assert.False(decoder.Feed(stream, seen.Add, out string? error));
        Assert.Single(seen);
        Assert.Equal("malformed line event at byte 48: event id 9 is neither a rising (1) nor a falling (2) edge", error);
    }
}
