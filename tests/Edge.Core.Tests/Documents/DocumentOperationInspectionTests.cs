using CortexEdge.Core.Documents;
using CortexEdge.Core.State;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Documents;

/// <summary>The public inspection API sync uses on op bodies, and withheld ops (a sequence slot without content).</summary>
public sealed class DocumentOperationInspectionTests : IDisposable
{
    private readonly WalTestDirectory _source = new();
    private readonly WalTestDirectory _target = new();

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
    }

    private static EdgeDatabase Open(WalTestDirectory directory) => EdgeDatabase.Open(directory.Path, new EdgeDatabaseOptions { Durability = WalDurability.None });

    [Fact]
    public async Task EncodeDecode_RoundTrips_WithoutFieldsDropsOnlyTheNamedFields()
    {
        using EdgeDatabase source = Open(_source);
        await source.PutAsync("patients", "p1", "{\"temp\":37.2,\"patientId\":\"X-991\",\"ward\":\"B\"}");
        DocumentChange change = Assert.Single(source.ReadChanges(1));
        byte[] body = change.Operation.Encode();

        Assert.True(DocumentOperation.TryReadCollection(body, out string collection));
        Assert.Equal("patients", collection);
        DocumentOperation decoded = DocumentOperation.Decode(body);
        Assert.Equal(change.Operation.Fields.Select(f => f.Name), decoded.Fields.Select(f => f.Name));
        Assert.Same(decoded, decoded.WithoutFields(["absent"]));

        byte[] stripped = decoded.WithoutFields(["patientId"]).Encode();
        Assert.Equal(-1, stripped.AsSpan().IndexOf("X-991"u8));
        using EdgeDatabase target = Open(_target);
        Assert.Equal(RemoteApplyStatus.Applied, await target.ApplyRemoteAsync(WalRecordKind.Document, change.Header, stripped));
        Assert.Equal("{\"temp\":37.2,\"ward\":\"B\"}", target.Get("patients", "p1")!.ToJsonString());
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 1, 1 })]
    [InlineData(new byte[] { 9, 1, 1, (byte)'c' })] // unknown format version
    [InlineData(new byte[] { 1, 1, 5, (byte)'c' })] // collection longer than the body
    [InlineData(new byte[] { 1, 1, 1, 0xFF })] // not UTF-8
    public void TryReadCollection_BodyThatIsNotADocumentOp_False(byte[] body) =>
        Assert.False(DocumentOperation.TryReadCollection(body, out _));

    [Fact]
    public void Decode_Garbage_ThrowsDocumentMalformed()
    {
        var error = Assert.Throws<EdgeCorruptionException>(() => DocumentOperation.Decode([1, 1, 1, (byte)'c']));
        Assert.Equal(EdgeErrorCode.DocumentMalformed, error.Code);
    }

    [Fact]
    public async Task WithheldOp_KeepsTheOriginSequenceDense_ChangesNoState_SurvivesReopen()
    {
        using EdgeDatabase source = Open(_source);
        await source.PutAsync("notes", "n1", "{\"text\":\"stays here\"}");
        await source.PutAsync("shared", "s1", "{\"v\":1}");
        DocumentChange[] changes = [.. source.ReadChanges(1)];
        ulong origin = source.ReplicaId;
        using (EdgeDatabase target = Open(_target))
        {
            Assert.Equal(RemoteApplyStatus.Applied, await target.ApplyRemoteAsync(WalRecordKind.WithheldOp, changes[0].Header, ReadOnlyMemory<byte>.Empty));
            Assert.Equal(RemoteApplyStatus.Applied, await target.ApplyRemoteAsync(WalRecordKind.Document, changes[1].Header, changes[1].Operation.Encode()));
            Assert.Equal(RemoteApplyStatus.Duplicate, await target.ApplyRemoteAsync(WalRecordKind.WithheldOp, changes[0].Header, ReadOnlyMemory<byte>.Empty));
            var withBody = await Assert.ThrowsAsync<EdgeException>(() => target.ApplyRemoteAsync(WalRecordKind.WithheldOp, new OperationHeader(3, changes[1].Header.Timestamp), new byte[] { 1 }).AsTask());
            Assert.Equal(EdgeErrorCode.DocumentMalformed, withBody.Code);
            Assert.Empty(target.Scan("notes"));
        }

        using EdgeDatabase reopened = Open(_target);
        Assert.Equal(2UL, reopened.GetVersionVector()[origin]);
        Assert.Empty(reopened.Scan("notes"));
        Assert.Equal("{\"v\":1}", reopened.Get("shared", "s1")!.ToJsonString());
    }
}
