using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests;

public sealed class EdgeDatabaseFaultTests : IDisposable
{
    private readonly WalTestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private EdgeDatabase Open(IWalFileSystem? fileSystem, WalDurability durability) => EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
    {
        Durability = durability,
        WalFileSystem = fileSystem,
        CheckpointInterval = TimeSpan.FromHours(1),
        CheckpointRecordCount = int.MaxValue,
    });

    [Theory]
    [InlineData(WalFaultKind.FlushFails, WalDurabilityMode.Group)]
    [InlineData(WalFaultKind.FlushFails, WalDurabilityMode.Always)]
    [InlineData(WalFaultKind.Eio, WalDurabilityMode.Always)]
    [InlineData(WalFaultKind.ShortWrite, WalDurabilityMode.Group)]
    public async Task FailedFlush_WriteNotAcknowledged_DatabaseRefusesWrites_AcknowledgedSurvivePowerLoss(WalFaultKind fault, WalDurabilityMode mode)
    {
        WalDurability durability = mode == WalDurabilityMode.Always ? WalDurability.Always : WalDurability.Group(TimeSpan.FromMilliseconds(2));
        var fileSystem = new FaultInjectingWalFileSystem();
        EdgeDatabase database = Open(fileSystem, durability);
        for (int i = 0; i < 20; i++)
        {
            await database.PutAsync("c", $"acked{i}", $"{{\"i\":{i}}}");
        }

        fileSystem.Arm(fault);
        var error = await Assert.ThrowsAsync<EdgeException>(() => database.PutAsync("c", "unacked", "{\"i\":-1}").AsTask());
        Assert.Equal(EdgeErrorCode.DatabaseFaulted, error.Code);
        Assert.Contains("Reopen", error.Message);
        Assert.True(database.IsFaulted);

        var refused = await Assert.ThrowsAsync<EdgeException>(() => database.PutAsync("c", "later", "{}").AsTask());
        Assert.Equal(EdgeErrorCode.DatabaseFaulted, refused.Code);
        Assert.NotNull(database.Get("c", "acked0")); // reads keep working
        Assert.NotNull(database.GetStats().Fault);

        fileSystem.CutPower();
        database.CloseWithoutCheckpoint();
        fileSystem.RestoreDurableImage(Path.Combine(_directory.Path, EdgeDatabase.WalDirectoryName));

        using EdgeDatabase reopened = Open(null, durability);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"{{\"i\":{i}}}", reopened.Get("c", $"acked{i}")?.ToJsonString());
        }

        Assert.Null(reopened.Get("c", "later"));
        await reopened.PutAsync("c", "after-reopen", "{}"); // writable again
        Assert.NotNull(reopened.Get("c", "after-reopen"));
    }

    [Fact]
    public async Task DiskFullAtPreallocation_ClearError_DatabaseStaysUsable()
    {
        var fileSystem = new FaultInjectingWalFileSystem();
        using EdgeDatabase database = EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
        {
            Durability = WalDurability.None,
            WalFileSystem = fileSystem,
            WalSegmentBytes = 16 * 1024,
            CheckpointInterval = TimeSpan.FromHours(1),
            CheckpointRecordCount = int.MaxValue,
        });
        fileSystem.Arm(WalFaultKind.NoSpaceAtPreallocate);
        string payload = "{\"blob\":\"" + new string('x', 1000) + "\"}";
        EdgeException? error = null;
        for (int i = 0; i < 100 && error is null; i++)
        {
            try
            {
                await database.PutAsync("c", $"k{i}", payload);
            }
            catch (EdgeException exception)
            {
                error = exception;
            }
        }

        Assert.NotNull(error);
        Assert.Equal(EdgeErrorCode.DiskFull, error.Code);
        Assert.False(database.IsFaulted);
        await database.PutAsync("c", "after", payload); // the next preallocation succeeds
        Assert.NotNull(database.Get("c", "after"));
    }
}
