using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Tests.Mqtt;

public sealed class MqttTopicTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("/")]
    [InlineData("a//b")]
    [InlineData("$SYS/broker")]
    [InlineData("ce/fleet/up/node-1")]
    [InlineData(" ")]
    public void IsValidTopicName_Valid(string topic) => Assert.True(MqttTopic.IsValidTopicName(topic));

    [Theory]
    [InlineData("")]
    [InlineData("a/+")]
    [InlineData("a/#")]
    [InlineData("a+b")]
    [InlineData("a\0b")]
    public void IsValidTopicName_Invalid(string topic) => Assert.False(MqttTopic.IsValidTopicName(topic));

    [Theory]
    [InlineData("#")]
    [InlineData("+")]
    [InlineData("a/#")]
    [InlineData("+/+/#")]
    [InlineData("a//+")]
    [InlineData("$share/group/a/#")]
    public void IsValidTopicFilter_Valid(string filter) => Assert.True(MqttTopic.IsValidTopicFilter(filter));

    [Theory]
    [InlineData("")]
    [InlineData("a#")]
    [InlineData("a/#/b")]
    [InlineData("a+/b")]
    [InlineData("a/+b")]
    [InlineData("##")]
    [InlineData("$share/")]
    [InlineData("$share/g+/a")]
    [InlineData("$share/group/")]
    public void IsValidTopicFilter_Invalid(string filter) => Assert.False(MqttTopic.IsValidTopicFilter(filter));

    [Theory]
    [InlineData("a/b/c", "a/b/c", true)]
    [InlineData("a/+/c", "a/b/c", true)]
    [InlineData("a/+/c", "a/b/d", false)]
    [InlineData("a/#", "a", true)]
    [InlineData("a/#", "a/b/c", true)]
    [InlineData("#", "a/b", true)]
    [InlineData("+", "a/b", false)]
    [InlineData("+/+", "/a", true)]
    [InlineData("a/+", "a/", true)]
    [InlineData("#", "$SYS/x", false)]
    [InlineData("+/x", "$SYS/x", false)]
    [InlineData("$SYS/#", "$SYS/x", true)]
    [InlineData("$share/g/a/+", "a/b", true)]
    [InlineData("a/b", "a/b/c", false)]
    public void Matches_FollowsWildcardAndDollarRules(string filter, string topic, bool expected) =>
        Assert.Equal(expected, MqttTopic.Matches(filter, topic));

    [Fact]
    public void ValidateTopicFilter_Invalid_ThrowsWithReason()
    {
        var error = Assert.Throws<MqttProtocolException>(() => MqttTopic.ValidateTopicFilter("a/#/b"));
        Assert.Equal(MqttErrorCode.InvalidTopicFilter, error.Code);
        Assert.Contains("not the last", error.Message);
    }
}
