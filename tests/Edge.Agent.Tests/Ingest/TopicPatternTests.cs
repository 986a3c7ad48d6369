using CortexEdge.Agent.Ingest;

namespace CortexEdge.Agent.Tests.Ingest;

public sealed class TopicPatternTests
{
    [Theory]
    [InlineData("sensors/+/temp", "sensors/boiler/temp", true, "boiler")]
    [InlineData("sensors/+/temp", "sensors/boiler/humidity", false, null)]
    [InlineData("sensors/+/temp", "sensors/a/b/temp", false, null)]
    [InlineData("sensors/+/temp", "sensors//temp", true, "")]
    [InlineData("sensors/#", "sensors/a/b", true, "a/b")]
    [InlineData("sensors/#", "sensors", true, "")]
    [InlineData("#", "$SYS/broker", false, null)]
    [InlineData("+/x", "$SYS/x", false, null)]
    [InlineData("a/b", "a/b", true, null)]
    [InlineData("a/b", "a/b/c", false, null)]
    [InlineData("a/b/c", "a/b", false, null)]
    public void TryMatch_FollowsMqttWildcardRules(string filter, string topic, bool expected, string? firstCapture)
    {
        Assert.True(TopicPattern.TryParse(filter, out TopicPattern? pattern, out _));
        var captures = new string[4];
        Assert.Equal(expected, pattern!.TryMatch(topic, captures));
        if (expected && firstCapture is not null)
        {
            Assert.Equal(firstCapture, captures[0]);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/#/b")]
    [InlineData("a/b#")]
    [InlineData("a+/b")]
    public void TryParse_InvalidFilter_ExplainsWhy(string filter)
    {
        Assert.False(TopicPattern.TryParse(filter, out _, out string? error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void SeriesTemplate_FormatsCapturesAndEscapes()
    {
        Assert.True(SeriesTemplate.TryParse("{2}.{1}.{{raw}}", out SeriesTemplate? template, out _));
        Assert.Equal(2, template!.HighestCapture);
        Assert.Equal("b.a.{raw}", template.Format(["a", "b"]));
        Assert.False(SeriesTemplate.TryParse("{0}", out _, out _));
        Assert.False(SeriesTemplate.TryParse("x}", out _, out _));
    }
}
