using CortexEdge.Agent.Configuration;

namespace CortexEdge.Agent.Tests.Configuration;

public sealed class AgentConfigReaderTests
{
    [Fact]
    public void Read_Example_IsValidAndKeepsItsValues()
    {
        var (config, errors) = AgentConfigReader.Read(AgentConfigExample.Text);
        Assert.Empty(errors);
        Assert.NotNull(config);
        Assert.Equal("gateway-01", config!.Node);
        Assert.Equal(3, config.Ingest.Rules.Count);
        Assert.Equal("lines", config.Ingest.Rules[2].Format);
        Assert.Equal(0, config.Manifest["alarms"].Priority);
        Assert.True(config.Manifest["readings"].Droppable);
        Assert.False(config.Manifest["alarms"].Droppable);
        Assert.Equal(8883, config.Brokers.Upstream!.Port);
    }

    [Fact]
    public void Read_Minimal_UsesDefaults()
    {
        var (config, errors) = AgentConfigReader.Read("""{ "role": "leader" }""");
        Assert.Empty(errors);
        Assert.Equal("group", config!.Durability.Mode);
        Assert.Equal(1L << 30, config.Quotas.WalBytes);
        Assert.Equal("127.0.0.1:8080", config.Api.Bind);
    }

    [Fact]
    public void Read_UnknownField_IsAnErrorNamingItsPath()
    {
        var (_, errors) = AgentConfigReader.Read("""{ "role": "leader", "brokers": { "upstrem": { "host": "x" } } }""");
        ConfigError error = Assert.Single(errors);
        Assert.Equal("$.brokers.upstrem", error.Path);
        Assert.Contains("unknown field 'upstrem'", error.Message);
    }

    [Fact]
    public void Read_WrongType_NamesThePath()
    {
        var (_, errors) = AgentConfigReader.Read("""{ "role": "leader", "durability": { "intervalMs": "ten" } }""");
        ConfigError error = Assert.Single(errors);
        Assert.Equal("$.durability.intervalMs", error.Path);
    }

    [Fact]
    public void Read_EveryBadFieldReportedAtOnce()
    {
        const string json = """
        {
          "role": "gateway",
          "durability": { "mode": "sometimes", "intervalMs": 0 },
          "brokers": { "local": { "port": 70000 } },
          "ingest": { "rules": [
            { "topic": "sensors/#/temp", "series": "{1}" },
            { "topic": "sensors/+/x", "series": "{2}.x", "format": "xml" }
          ] },
          "api": { "bind": "0.0.0.0:8080" }
        }
        """;
        var (_, errors) = AgentConfigReader.Read(json);
        string[] paths = errors.Select(e => e.Path).ToArray();
        Assert.Contains("$.role", paths);
        Assert.Contains("$.durability.mode", paths);
        Assert.Contains("$.durability.intervalMs", paths);
        Assert.Contains("$.brokers.local.port", paths);
        Assert.Contains("$.ingest.rules[0].topic", paths);
        Assert.Contains("$.ingest.rules[1].series", paths);
        Assert.Contains("$.ingest.rules[1].format", paths);
        Assert.Contains("$.api.tokenFile", paths);
    }

    [Fact]
    public void Read_EdgeWithoutNodeName_IsRefused()
    {
        var (_, errors) = AgentConfigReader.Read("""{ "role": "edge" }""");
        Assert.Contains(errors, e => e.Path == "$.node");
    }

    [Fact]
    public void Read_NotJson_ReportsPosition()
    {
        var (config, errors) = AgentConfigReader.Read("{ role: ");
        Assert.Null(config);
        Assert.Single(errors);
    }
}
