using System.Text.Json;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// How the leader's per-node refusal counts reach <c>cortex-edge fleet status</c> (another
/// process): the leader publishes them retained (QoS 1) as JSON on ce/{fleet}/refusals whenever
/// they change — <c>{"node-a":{"spoofed":1,"identityMismatch":0,"collectionNotWritable":3}}</c>.
/// Only the leader's account may write it and the ACL gives nodes no read on it.
/// </summary>
public static class RefusalChannel
{
    /// <summary>Largest payload accepted, in bytes.</summary>
    public const int PayloadBytesMax = 1 << 20;

    /// <summary>ce/{fleet}/refusals.</summary>
    public static string TopicFor(string fleet)
    {
        ArgumentException.ThrowIfNullOrEmpty(fleet);
        return $"ce/{fleet}/refusals";
    }

    /// <summary>The JSON of <paramref name="refusals"/>.</summary>
    public static byte[] Encode(IReadOnlyDictionary<string, NodeRefusalCounts> refusals)
    {
        ArgumentNullException.ThrowIfNull(refusals);
        return JsonSerializer.SerializeToUtf8Bytes(refusals.ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal), FleetJsonContext.Default.DictionaryStringNodeRefusalCounts);
    }

    /// <summary>Decodes a refusals payload.</summary>
    /// <exception cref="FleetProtocolException">PresenceMalformed: too large or not a node -> counts object.</exception>
    public static IReadOnlyDictionary<string, NodeRefusalCounts> Decode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > PayloadBytesMax)
        {
            throw new FleetProtocolException(FleetErrorCode.PresenceMalformed, $"refusals: {payload.Length} bytes exceed the limit {PayloadBytesMax}", PayloadBytesMax);
        }

        try
        {
            return JsonSerializer.Deserialize(payload, FleetJsonContext.Default.DictionaryStringNodeRefusalCounts)
                ?? throw new FleetProtocolException(FleetErrorCode.PresenceMalformed, "refusals: null", 0);
        }
        catch (JsonException exception)
        {
            throw new FleetProtocolException(FleetErrorCode.PresenceMalformed, $"refusals: {exception.Message}", (int)Math.Min(exception.BytePositionInLine ?? 0, payload.Length));
        }
    }
}
