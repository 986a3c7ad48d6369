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
    public async Task Open_NewDatabase_LeavesSqliteLogEmpty_SchemaInTheFile()
    {
        await using (EdgeDatabase database = EdgeDatabase.Open(_directory.Path))
        {
            // Creating the schema is a one-time cost: its pages are in the file already, so the
            // first checkpoint does not copy them again.
            Assert.Equal(0, new FileInfo(Path.Combine(_directory.Path, StateStore.FileName + "-wal")).Length);
            await database.AppendAsync("s", [new TimeSeriesReading(1, 1.5), new TimeSeriesReading(2, 2.5)]);
            await database.CheckpointAsync();
        }

        await using (EdgeDatabase reopened = EdgeDatabase.Open(_directory.Path))
        {
            Assert.Equal([new TimeSeriesReading(1, 1.5), new TimeSeriesReading(2, 2.5)], reopened.ReadRange("s", 0, 10));
        }
    }
}
