namespace CortexEdge.Agent.Policy;

/// <summary>
/// An error raised on purpose by the sync policy or one of its input readers. <see cref="Code"/>
/// says what went wrong in a stable way; the message names the file, device, line or option.
/// Input readers report malformed or missing sysfs/procfs values as "unknown" readings, not as
/// this exception: it is reserved for configuration errors and devices that cannot be used.
/// </summary>
public sealed class SyncPolicyException : Exception
{
    /// <summary>Creates an error with a code and a message.</summary>
    public SyncPolicyException(SyncPolicyErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>What went wrong.</summary>
    public SyncPolicyErrorCode Code { get; }
}
