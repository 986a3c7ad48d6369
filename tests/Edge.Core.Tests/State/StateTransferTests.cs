using CortexEdge.Core.Clocks;
using CortexEdge.Core.Documents;
using CortexEdge.Core.State;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.State;

/// <summary>Whole-state export as idempotent ops, bulk document merge, document hiding and tombstone purge.</summary>
public sealed class StateTransferTests : IDisposable
{
    private readonly WalTestDirectory _source = new();
    private readonly WalTestDirectory _target = new();

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
    }

    [Fact]
    public async Task ExportedState_AppliedTwiceToAnotherDatabase_ReproducesDocumentsCrdtFieldsVectorsAndSeries()
    {
        await using EdgeDatabase source = Declare(EdgeDatabase.Open(_source.Path));
        await source.PutAsync("c", "a", """{"x":1}""");
        await source.PatchAsync("c", "a", """{"y":2}""");
        await source.IncrementAsync("c", "a", "hits", 7);
        await source.PutAsync("c", "gone", """{"x":1}""");
        await source.DeleteAsync("c", "gone");
        await source.CreateVectorCollectionAsync("v", 2);
        await source.UpsertVectorAsync("v", "p", [1, 2], "a");
        await source.UpsertVectorAsync("v", "q", [3, 4], "a");
        await source.DeleteVectorAsync("v", "q");
        for (int i = 0; i < 10; i++)
        {
            await source.AppendAsync("temp", 1_000 + i, i * 0.5);
        }

        var versions = new VersionVector();
        var records = new List<(WalRecordKind Kind, HlcTimestamp Timestamp, byte[] Body)>();
        long lsn = source.ExportReplicatedState(versions, (kind, timestamp, body) => records.Add((kind, timestamp, body.ToArray())));
        Assert.Equal(source.Wal.LastLsn, lsn);
        Assert.Equal(source.GetVersionVector(), versions);
        Assert.Contains(records, r => r.Kind == WalRecordKind.Document);

        await using EdgeDatabase target = Declare(EdgeDatabase.Open(_target.Path));
        for (int pass = 0; pass < 2; pass++)
        {
            // Twice: every op is a join, so a second application changes nothing.
            foreach ((WalRecordKind kind, HlcTimestamp timestamp, byte[] body) in records)
            {
                if (kind == WalRecordKind.Document && pass == 1)
                {
                    target.MergeDocumentStates([body]);
                    continue;
                }

                HlcTimestamp stamp = timestamp == HlcTimestamp.Zero ? new HlcTimestamp(1, source.ReplicaId) : timestamp;
                target.ApplyStateRecord(kind, new OperationHeader(versions[stamp.ReplicaId], stamp), body);
            }
        }

        Assert.Equal(source.Get("c", "a")!.ToJsonString(), target.Get("c", "a")!.ToJsonString());
        Assert.Null(target.Get("c", "gone"));
        Assert.Equal([1f, 2f], target.GetVector("v", "p")!.Vector);
        Assert.Null(target.GetVector("v", "q"));
        Assert.Equal(source.ReadRange("temp", 0, 10_000), target.ReadRange("temp", 0, 10_000));
        Assert.Equal(source.GetVersionVector(), target.GetVersionVector()); // headers carried the exporter's sequences
    }

    [Fact]
    public async Task MergeDocumentStates_RefusesABodyThatIsNotAStateMerge_WithATypedError()
    {
        await using EdgeDatabase target = EdgeDatabase.Open(_target.Path);
        EdgeException error = Assert.Throws<EdgeException>(() => target.MergeDocumentStates([new byte[] { 1, 1, 1, (byte)'c', 1, (byte)'k', 0 }]));
        Assert.Equal(EdgeErrorCode.DocumentMalformed, error.Code);
        Assert.Empty(target.Scan("c"));
    }

    [Fact]
    public async Task HideDocumentsNotIn_HidesOnlyDocumentsTheCallerDoesNotKeep()
    {
        await using EdgeDatabase db = EdgeDatabase.Open(_source.Path);
        await db.PutAsync("c", "keep", """{"v":1}""");
        await db.PutAsync("c", "drop", """{"v":1}""");
        int hidden = db.HideDocumentsNotIn((_, key) => key == "keep", new OperationHeader(1, new HlcTimestamp(1, 0xFEED)));
        Assert.Equal(1, hidden);
        Assert.NotNull(db.Get("c", "keep"));
        Assert.Null(db.Get("c", "drop"));
    }

    [Fact]
    public async Task PurgeDocumentTombstones_RemovesTombstonesAtOrBelowTheLsn_NotLaterOnesNorLiveDocuments()
    {
        await using EdgeDatabase db = EdgeDatabase.Open(_source.Path);
        await db.PutAsync("c", "early", """{"v":1}""");
        await db.DeleteAsync("c", "early");
        long cut = db.Wal.LastLsn;
        await db.CheckpointAsync();
        await db.PutAsync("c", "late", """{"v":1}""");
        await db.DeleteAsync("c", "late");
        await db.PutAsync("c", "live", """{"v":1}""");
        await db.CheckpointAsync(); // "late" lands in a checkpoint past the cut

        Assert.Equal(1, db.PurgeDocumentTombstones(cut));
        Assert.Equal(0, db.PurgeDocumentTombstones(cut));
        Assert.Equal(1, db.PurgeDocumentTombstones(db.Wal.LastLsn));
        Assert.NotNull(db.Get("c", "live"));
        Assert.Null(db.Get("c", "early"));
    }

    private static EdgeDatabase Declare(EdgeDatabase db)
    {
        db.DeclareCollection(new CollectionSchema("c", new Dictionary<string, DocumentFieldType> { ["hits"] = DocumentFieldType.PnCounter }));
        return db;
    }
}
