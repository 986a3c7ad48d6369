using System.Text.Json.Serialization;

namespace CortexEdge.Sync.Fleet;

/// <summary>Source-generated JSON for the fleet's JSON payloads (AOT-safe, no reflection).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(PresenceReport))]
[JsonSerializable(typeof(FleetStatusRow[]))]
[JsonSerializable(typeof(Dictionary<string, NodeRefusalCounts>))]
internal sealed partial class FleetJsonContext : JsonSerializerContext
{
}
