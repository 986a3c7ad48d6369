namespace CortexEdge.Sync.Fleet;

/// <summary>
/// Base of every error the fleet layer raises on purpose; <see cref="Code"/> says what went wrong.
/// Bytes from a peer that do not decode raise <see cref="FleetProtocolException"/>.
/// </summary>
public class FleetException : Exception
{
    /// <summary>Creates an error with a code and a message naming the offending value.</summary>
    public FleetException(FleetErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>What went wrong.</summary>
    public FleetErrorCode Code { get; }
}
