using CortexEdge.Core.State;
using CortexEdge.Core.Tests.Wal;

namespace CortexEdge.Core.Tests.State;

public sealed class DirectoryLockTests
{
    [Fact]
    public void Acquire_SecondOpener_GetsDatabaseLockedNamingHolderPid()
    {
        using var directory = new WalTestDirectory();
        using DirectoryLock first = DirectoryLock.Acquire(directory.Path);
        var error = Assert.Throws<EdgeException>(() => DirectoryLock.Acquire(directory.Path));
        Assert.Equal(EdgeErrorCode.DatabaseLocked, error.Code);
        Assert.Contains($"process {Environment.ProcessId}", error.Message);
        Assert.Contains(directory.Path, error.Message);
    }

    [Fact]
    public void Acquire_AfterRelease_Succeeds()
    {
        using var directory = new WalTestDirectory();
        DirectoryLock.Acquire(directory.Path).Dispose();
        using DirectoryLock again = DirectoryLock.Acquire(directory.Path);
        Assert.True(File.Exists(again.FilePath));
    }

    [Fact]
    public async Task Open_DatabaseTwice_SecondGetsDatabaseLocked_FirstStillWorks()
    {
        using var directory = new WalTestDirectory();
        using EdgeDatabase database = EdgeDatabase.Open(directory.Path);
        var error = Assert.Throws<EdgeException>(() => EdgeDatabase.Open(directory.Path));
        Assert.Equal(EdgeErrorCode.DatabaseLocked, error.Code);
        Assert.Contains(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
        await database.PutAsync("c", "k", "{\"a\":1}");
        Assert.NotNull(database.Get("c", "k"));
    }
}
