using CortexEdge.Sync.Fleet;

namespace CortexEdge.Sync.Tests.Fleet;

public sealed class NodeAuthorizerTests
{
    private readonly ManifestFilter _manifest = new(FleetRole.Leader, new ReplicationManifest(1,
    [
        new CollectionRule { Name = "readings", Direction = ReplicationDirection.Up },
        new CollectionRule { Name = "config", Direction = ReplicationDirection.Down },
    ]));

    [Fact]
    public void Authorize_HonestFrame_Allowed()
    {
        var authorizer = new NodeAuthorizer("plant", _manifest);

        NodeAuthorizationResult result = authorizer.Authorize("ce/plant/up/node-a", "node-a", "node-a", ["readings", "other"]);

        Assert.True(result.Allowed, result.Detail);
        Assert.Equal(0, authorizer.GetRefusals("node-a").Total);
    }

    [Fact]
    public void Authorize_FrameUnderAnotherNodesId_RefusedAsSpoofedAndCounted()
    {
        var authorizer = new NodeAuthorizer("plant", _manifest);

        NodeAuthorizationResult result = authorizer.Authorize("ce/plant/up/node-a", "node-b", null, ["readings"]);
        authorizer.Authorize("ce/plant/up/node-a", "node-b", null, ["readings"]);

        Assert.False(result.Allowed);
        Assert.Equal(FleetErrorCode.NodeIdSpoofed, result.Code);
        Assert.Equal("node-a", result.Node);
        Assert.Equal(2, authorizer.GetRefusals("node-a").Spoofed);
        Assert.Equal(0, authorizer.GetRefusals("node-b").Total);
    }

    [Fact]
    public void Authorize_BrokerIdentityOfAnotherNode_Refused()
    {
        var authorizer = new NodeAuthorizer("plant", _manifest);

        NodeAuthorizationResult result = authorizer.Authorize("ce/plant/up/node-a", "node-a", "node-c", ["readings"]);

        Assert.Equal(FleetErrorCode.NodeIdentityMismatch, result.Code);
        Assert.Equal(1, authorizer.GetRefusals("node-a").IdentityMismatch);
    }

    [Fact]
    public void Authorize_DownOnlyCollection_RefusedAsNotWritable()
    {
        var authorizer = new NodeAuthorizer("plant", _manifest);

        NodeAuthorizationResult result = authorizer.Authorize("ce/plant/up/node-a", "node-a", null, ["readings", "config"]);

        Assert.Equal(FleetErrorCode.CollectionNotWritable, result.Code);
        Assert.Contains("'config'", result.Detail, StringComparison.Ordinal);
        Assert.Equal(1, authorizer.GetAllRefusals()["node-a"].CollectionNotWritable);
    }

    [Fact]
    public void Authorize_ManifestChange_TakesEffectOnNextFrame()
    {
        var authorizer = new NodeAuthorizer("plant", _manifest);
        Assert.True(authorizer.Authorize("ce/plant/up/n", "n", null, ["readings"]).Allowed);

        _manifest.Update(new ReplicationManifest(2, [new CollectionRule { Name = "readings", Direction = ReplicationDirection.LocalOnly }]));

        Assert.Equal(FleetErrorCode.CollectionNotWritable, authorizer.Authorize("ce/plant/up/n", "n", null, ["readings"]).Code);
    }

    [Theory]
    [InlineData("ce/other/up/node-a")]
    [InlineData("ce/plant/up")]
    [InlineData("ce/plant/up/node-a/extra")]
    [InlineData("xx/plant/up/node-a")]
    [InlineData("ce/plant/up/")]
    public void Authorize_TopicOfNoNodeOfThisFleet_RefusedUnattributed(string topic)
    {
        var authorizer = new NodeAuthorizer("plant", _manifest);

        NodeAuthorizationResult result = authorizer.Authorize(topic, "node-a", null, []);

        Assert.Equal(FleetErrorCode.NodeTopicInvalid, result.Code);
        Assert.Equal(1, authorizer.InvalidTopicCount);
        Assert.Empty(authorizer.GetAllRefusals());
    }
}
