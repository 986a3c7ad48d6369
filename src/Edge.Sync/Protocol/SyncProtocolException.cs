using System.Diagnostics.CodeAnalysis;

namespace CortexEdge.Sync.Protocol;

/// <summary>
/// A sync protocol violation or refusal: a frame that cannot be decoded, a frame from a newer
/// protocol version, an identity mismatch, a refused op. <see cref="Code"/> is the stable,
/// machine-readable reason; the message names the field, offset or limit involved.
/// Transport failures (the broker is unreachable) are not this type.
/// </summary>
public sealed class SyncProtocolException : Exception
{
    /// <summary>Creates a protocol error with a code and a message.</summary>
    public SyncProtocolException(SyncProtocolErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>What went wrong.</summary>
    public SyncProtocolErrorCode Code { get; }

    [DoesNotReturn]
    internal static void Throw(SyncProtocolErrorCode code, string message) => throw new SyncProtocolException(code, message);
}
