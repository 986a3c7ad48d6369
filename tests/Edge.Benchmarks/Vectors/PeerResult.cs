using System.Text.Json.Serialization;

namespace CortexEdge.Benchmarks.Vectors;

/// <summary>What a peer script prints: build time, RSS around the build, per-query latencies.</summary>
internal sealed class PeerResult
{
    [JsonPropertyName("buildMs")]
    public double BuildMs { get; set; }

    [JsonPropertyName("rssBeforeBuild")]
    public long RssBeforeBuild { get; set; }

    [JsonPropertyName("rssAfterBuild")]
    public long RssAfterBuild { get; set; }

    [JsonPropertyName("latenciesUs")]
    public double[] LatenciesUs { get; set; } = [];
}

[JsonSerializable(typeof(PeerResult))]
internal sealed partial class PeerResultJsonContext : JsonSerializerContext;
