using System.Buffers;
using System.Text;
using CortexEdge.Sync.Fleet;

namespace CortexEdge.Sync.Tests.Fleet;

public sealed class ManifestFilterTests
{
    private const string Marker = "MARKER-7f3a9c-never-leaves";

    [Fact]
    public void Filter_LocalOnlyFieldWithMarker_MarkerNeverInOutput()
    {
        var filter = new ManifestFilter(FleetRole.Node, Manifest(1, new CollectionRule { Name = "patients", LocalOnlyFields = ["ssn", "notes"] }));
        var output = new ArrayBufferWriter<byte>();

        ManifestDecision decision = filter.Filter("patients", Utf8($"{{\"name\":\"a\",\"ssn\":\"{Marker}\",\"notes\":{{\"x\":\"{Marker}\"}},\"t\":1}}"), output);

        Assert.Equal(ManifestDecision.SendStripped, decision);
        string sent = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.DoesNotContain(Marker, sent, StringComparison.Ordinal);
        Assert.Equal("{\"name\":\"a\",\"t\":1}", sent);
    }

    [Fact]
    public void Filter_RandomDocuments_MarkerFieldNeverSurvives()
    {
        int seed = FleetTestSupport.Seed();
        var random = new Random(seed);
        var filter = new ManifestFilter(FleetRole.Leader, Manifest(1, new CollectionRule { Name = "c", LocalOnlyFields = ["secret"] }));
        for (int iteration = 0; iteration < 2_000; iteration++)
        {
            var json = new StringBuilder("{");
            int fields = random.Next(0, 8);
            int secretAt = random.Next(-1, fields);
            for (int field = 0; field < fields; field++)
            {
                string name = field == secretAt ? "secret" : $"f{random.Next(100)}x";
                json.Append(field == 0 ? string.Empty : ",").Append('"').Append(name).Append("\":\"").Append(field == secretAt ? Marker : "v").Append('"');
            }

            json.Append('}');
            var output = new ArrayBufferWriter<byte>();
            filter.Filter("c", Utf8(json.ToString()), output);
            Assert.False(Encoding.UTF8.GetString(output.WrittenSpan).Contains(Marker, StringComparison.Ordinal), $"seed {seed}: {json}");
        }
    }

    [Fact]
    public void Filter_CollectionSwitchedToLocalOnly_DroppedOnTheNextCall()
    {
        var filter = new ManifestFilter(FleetRole.Node, Manifest(1, new CollectionRule { Name = "readings", Direction = ReplicationDirection.Up }));
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(ManifestDecision.Send, filter.Filter("readings", Utf8("{\"t\":1}"), output));

        Assert.True(filter.Update(Manifest(2, new CollectionRule { Name = "readings", Direction = ReplicationDirection.LocalOnly })));
        output.ResetWrittenCount();

        Assert.Equal(ManifestDecision.Drop, filter.Filter("readings", Utf8("{\"t\":2}"), output));
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void Update_OlderRevision_Ignored()
    {
        var filter = new ManifestFilter(FleetRole.Node, Manifest(5, new CollectionRule { Name = "a", Direction = ReplicationDirection.LocalOnly }));

        Assert.False(filter.Update(Manifest(4, new CollectionRule { Name = "a", Direction = ReplicationDirection.Both })));
        Assert.False(filter.Travels("a"));
    }

    [Theory]
    [InlineData(ReplicationDirection.Up, FleetRole.Node, true)]
    [InlineData(ReplicationDirection.Up, FleetRole.Leader, false)]
    [InlineData(ReplicationDirection.Down, FleetRole.Node, false)]
    [InlineData(ReplicationDirection.Down, FleetRole.Leader, true)]
    [InlineData(ReplicationDirection.Both, FleetRole.Node, true)]
    [InlineData(ReplicationDirection.LocalOnly, FleetRole.Leader, false)]
    public void Filter_Direction_SendsOnlyTheWayItTravels(ReplicationDirection direction, FleetRole role, bool sent)
    {
        var filter = new ManifestFilter(role, Manifest(1, new CollectionRule { Name = "c", Direction = direction }));

        ManifestDecision decision = filter.Filter("c", Utf8("{}"), new ArrayBufferWriter<byte>());

        Assert.Equal(sent ? ManifestDecision.Send : ManifestDecision.Drop, decision);
    }

    [Fact]
    public void Filter_NewerSchemaThanNodeUnderstands_HeldBackAndReported()
    {
        var filter = new ManifestFilter(FleetRole.Node, Manifest(1, new CollectionRule { Name = "c", SchemaVersion = 3 }),
            new Dictionary<string, int> { ["c"] = 2 });

        Assert.Equal(ManifestDecision.HoldBack, filter.Filter("c", Utf8("{}"), new ArrayBufferWriter<byte>()));
        Assert.Equal(3, filter.HeldBackCollections["c"]);

        filter.Update(Manifest(2, new CollectionRule { Name = "c", SchemaVersion = 2 }));
        Assert.Equal(ManifestDecision.Send, filter.Filter("c", Utf8("{}"), new ArrayBufferWriter<byte>()));
        Assert.Empty(filter.HeldBackCollections);
    }

    [Fact]
    public void Filter_NotAnObjectWhereFieldsMustBeStripped_ThrowsDocumentInvalid()
    {
        var filter = new ManifestFilter(FleetRole.Node, Manifest(1, new CollectionRule { Name = "c", LocalOnlyFields = ["x"] }));

        var error = Assert.Throws<FleetException>(() => filter.Filter("c", Utf8("[1,2]"), new ArrayBufferWriter<byte>()));

        Assert.Equal(FleetErrorCode.ManifestDocumentInvalid, error.Code);
    }

    [Fact]
    public void Filter_DeleteOp_PassesThroughEmpty()
    {
        var filter = new ManifestFilter(FleetRole.Node, Manifest(1, new CollectionRule { Name = "c", LocalOnlyFields = ["x"] }));

        Assert.Equal(ManifestDecision.Send, filter.Filter("c", ReadOnlySpan<byte>.Empty, new ArrayBufferWriter<byte>()));
    }

    internal static ReplicationManifest Manifest(long revision, params CollectionRule[] rules) => new(revision, rules);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
