using System.Text.Json;

namespace CortexEdge.Sync.Fleet;

/// <summary>Pure JSON codec of <see cref="PresenceReport"/>. Thread-safe.</summary>
public static class PresenceCodec
{
    /// <summary>Largest presence payload accepted, in bytes.</summary>
    public const int PayloadBytesMax = 4096;

    /// <summary>The UTF-8 JSON of <paramref name="report"/>.</summary>
    public static byte[] Encode(PresenceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return JsonSerializer.SerializeToUtf8Bytes(report, FleetJsonContext.Default.PresenceReport);
    }

    /// <summary>Decodes a presence payload.</summary>
    /// <exception cref="FleetProtocolException">PresenceMalformed: too large, not JSON, not a report, or without a node id.</exception>
    public static PresenceReport Decode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > PayloadBytesMax)
        {
            throw new FleetProtocolException(FleetErrorCode.PresenceMalformed, $"presence: {payload.Length} bytes exceed the limit {PayloadBytesMax}", PayloadBytesMax);
        }

        try
        {
            PresenceReport? report = JsonSerializer.Deserialize(payload, FleetJsonContext.Default.PresenceReport);
            if (report is null || string.IsNullOrEmpty(report.Node))
            {
                throw new FleetProtocolException(FleetErrorCode.PresenceMalformed, "presence: no node id", 0);
            }

            return report;
        }
        catch (JsonException exception)
        {
            throw new FleetProtocolException(FleetErrorCode.PresenceMalformed, $"presence: {exception.Message}", (int)Math.Min(exception.BytePositionInLine ?? 0, payload.Length));
        }
    }
}
