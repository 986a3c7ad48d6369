using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// The MQTT topics of the sync protocol (DESIGN §6): <c>ce/{fleet}/up|ack|pull|down|presence/{node}</c>.
/// Thread-safe (pure functions).
/// </summary>
public static class SyncTopics
{
    /// <summary>Node -> leader upload batches.</summary>
    public static string Up(string fleet, string node) => Build(fleet, "up", node);

    /// <summary>Leader -> node acknowledgements, resend requests and errors.</summary>
    public static string Ack(string fleet, string node) => Build(fleet, "ack", node);

    /// <summary>Node -> leader pulls.</summary>
    public static string Pull(string fleet, string node) => Build(fleet, "pull", node);

    /// <summary>Leader -> node download batches, snapshot chunks and status.</summary>
    public static string Down(string fleet, string node) => Build(fleet, "down", node);

    /// <summary>Node presence (QoS 0, Last Will).</summary>
    public static string Presence(string fleet, string node) => Build(fleet, "presence", node);

    /// <summary>The leader's subscription to every node's <paramref name="kind"/> topic ("up" or "pull").</summary>
    public static string AllNodes(string fleet, string kind) => $"ce/{fleet}/{kind}/+";

    /// <summary>The topic a frame travels on, by who sends it and its type.</summary>
    public static string ForFrame(string fleet, SyncFrame frame) => frame.Type switch
    {
        SyncFrameType.UploadBatch => Up(fleet, frame.Node),
        SyncFrameType.Pull => Pull(fleet, frame.Node),
        SyncFrameType.Ack or SyncFrameType.ResendRequest or SyncFrameType.Error => Ack(fleet, frame.Node),
        _ => Down(fleet, frame.Node),
    };

    /// <summary>Reads the node name from a <c>ce/{fleet}/{kind}/{node}</c> topic.</summary>
    /// <returns>False when the topic is not of that shape.</returns>
    public static bool TryParseNode(string topic, string fleet, out string node)
    {
        node = "";
        string prefix = $"ce/{fleet}/";
        if (!topic.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        int slash = topic.IndexOf('/', prefix.Length);
        if (slash < 0 || slash == topic.Length - 1)
        {
            return false;
        }

        node = topic[(slash + 1)..];
        return SyncFrameCodec.IsValidName(node);
    }

    private static string Build(string fleet, string kind, string node)
    {
        if (!SyncFrameCodec.IsValidName(fleet) || !SyncFrameCodec.IsValidName(node))
        {
            SyncProtocolException.Throw(SyncProtocolErrorCode.InvalidName, $"fleet '{fleet}' and node '{node}' must be 1-{SyncFrameCodec.NameBytesMax} UTF-8 bytes without '/', '+', '#' or control characters.");
        }

        return $"ce/{fleet}/{kind}/{node}";
    }
}
