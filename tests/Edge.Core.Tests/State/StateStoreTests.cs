using CortexEdge.Core.State;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.TimeSeries;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core.Tests.State;

public sealed class StateStoreTests : IDisposable
{
    private readonly WalTestDirectory _directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task Open_NewDatabase_UsesSmallPages_AndLeavesSqliteLogEmpty()
    {
        await using (EdgeDatabase database = EdgeDatabase.Open(_directory.Path))
        {
            // Creating the schema is a one-time cost: its pages are in the file already, so the
            // first checkpoint does not copy them again.
            Assert.Equal(0, new FileInfo(Path.Combine(_directory.Path, StateStore.FileName + "-wal")).Length);
        }

        Assert.Equal(StateStore.PageSizeBytes, PageSize());
    }

    [Fact]
    public async Task Open_ExistingDatabaseWithOtherPageSize_KeepsItAndItsData()
    {
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, StateStore.FileName)};Pooling=False"))
        {
            connection.Open();
            StateStore.Execute(connection, null, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE early(x INTEGER);");
        }

        await using (EdgeDatabase database = EdgeDatabase.Open(_directory.Path))
        {
            await database.AppendAsync("s", [new TimeSeriesReading(1, 1.5), new TimeSeriesReading(2, 2.5)]);
            await database.CheckpointAsync();
        }

        await using (EdgeDatabase reopened = EdgeDatabase.Open(_directory.Path))
        {
            Assert.Equal([new TimeSeriesReading(1, 1.5), new TimeSeriesReading(2, 2.5)], reopened.ReadRange("s", 0, 10));
        }

        Assert.Equal(4096, PageSize());
    }

    private long PageSize()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, StateStore.FileName)};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "PRAGMA page_size;";
        return (long)command.ExecuteScalar()!;
    }
}
