using System.Buffers.Binary;
using System.Text;

namespace CortexEdge.Sync.Replication;

/// <summary>
/// MQTT topics of replication in fleet <c>{fleet}</c>:
/// <c>ce/{fleet}/repl/{replica}</c> leader -> replica (batches, snapshot chunks);
/// <c>ce/{fleet}/repl-status/{replica}</c> replica -> leader (position: pull and acknowledgement);
/// <c>ce/{fleet}/repl-leader</c> retained leadership record (epoch, leader name), written by
/// <c>cortex-edge promote</c> and by a leader starting at a newer epoch.
/// </summary>
public static class ReplicationTopics
{
    /// <summary>Leader -> replica stream topic.</summary>
    public static string Stream(string fleet, string replica) => $"ce/{fleet}/repl/{replica}";

    /// <summary>Replica -> leader status topic.</summary>
    public static string Status(string fleet, string replica) => $"ce/{fleet}/repl-status/{replica}";

    /// <summary>Filter matching every replica's status topic.</summary>
    public static string StatusFilter(string fleet) => $"ce/{fleet}/repl-status/+";

    /// <summary>The retained leadership record's topic.</summary>
    public static string Leadership(string fleet) => $"ce/{fleet}/repl-leader";

    /// <summary>Encodes a leadership record: epoch (8 bytes LE) then the leader's name (UTF-8).</summary>
    public static byte[] EncodeLeadership(ulong epoch, string leaderName)
    {
        byte[] name = Encoding.UTF8.GetBytes(leaderName);
        byte[] payload = new byte[8 + name.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, epoch);
        name.CopyTo(payload, 8);
        return payload;
    }

    /// <summary>Decodes a leadership record; false when it is malformed.</summary>
    public static bool TryDecodeLeadership(ReadOnlySpan<byte> payload, out ulong epoch, out string leaderName)
    {
        epoch = 0;
        leaderName = string.Empty;
        if (payload.Length < 8 || payload.Length > 8 + 256)
        {
            return false;
        }

        epoch = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        leaderName = Encoding.UTF8.GetString(payload[8..]);
        return epoch > 0;
    }

    /// <summary>Checks a fleet or replica name for use in a topic level.</summary>
    /// <exception cref="ArgumentException">Empty, or contains '/', '+', '#' or NUL.</exception>
    public static void ValidateLevel(string value, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, paramName);
        if (value.AsSpan().IndexOfAny("/+#\0") >= 0)
        {
            throw new ArgumentException($"'{value}' cannot be a topic level: it contains '/', '+', '#' or NUL", paramName);
        }
    }
}
