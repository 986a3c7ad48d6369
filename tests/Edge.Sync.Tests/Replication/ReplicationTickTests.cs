using System.Threading.Channels;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Replication;

namespace CortexEdge.Sync.Tests.Replication;

/// <summary>The replication loops' pause: one channel wait across idle ticks (a cancelled wait per tick leaked on .NET 9).</summary>
public sealed class ReplicationTickTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private static Channel<MqttMessage> NewChannel() => Channel.CreateBounded<MqttMessage>(new BoundedChannelOptions(16) { SingleReader = true });

    private static MqttMessage Message() => new("ce/f/repl/status/r1", new byte[] { 1 }, MqttQualityOfService.AtMostOnce, retain: false, dup: false, properties: null);

    [Fact]
    public async Task WaitAsync_EmptyChannel_KeepsOneWaitAcrossTicks()
    {
        Channel<MqttMessage> channel = NewChannel();
        var tick = new ReplicationTick(channel.Reader, TimeSpan.FromMilliseconds(1));

        for (int i = 0; i < 100; i++)
        {
            await tick.WaitAsync(CancellationToken.None).WaitAsync(HangGuard);
        }

        Assert.Equal(100, tick.Ticks);
        Assert.Equal(1, tick.WaitsStarted);
    }

    [Fact]
    public async Task WaitAsync_MessageArrives_ReturnsBeforeTheIntervalAndStartsOneNewWait()
    {
        Channel<MqttMessage> channel = NewChannel();
        var tick = new ReplicationTick(channel.Reader, TimeSpan.FromHours(1));

        Task waiting = tick.WaitAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        await channel.Writer.WriteAsync(Message());
        await waiting.WaitAsync(HangGuard); // returns on the message, not after the hour
        Assert.True(channel.Reader.TryRead(out _));

        using var stop = new CancellationTokenSource();
        Task next = tick.WaitAsync(stop.Token);
        await stop.CancelAsync();
        await next.WaitAsync(HangGuard); // stopping ends the pause without throwing
        Assert.Equal(2, tick.WaitsStarted);
    }
}
