namespace CortexEdge.Core;

/// <summary>
/// Base of every error the storage engine raises on purpose. <see cref="Code"/> says what went
/// wrong in a stable, machine-readable way; the message says it for a person, naming the file,
/// offset, key or limit involved. Data corruption is <see cref="EdgeCorruptionException"/>.
/// </summary>
public class EdgeException : Exception
{
    /// <summary>Creates an error with a code and a message.</summary>
    public EdgeException(EdgeErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>What went wrong.</summary>
    public EdgeErrorCode Code { get; }
}

/// <summary>
/// Persisted data failed a check (CRC, length, sequence, format). Never raised for bad input from
/// a caller; always names where the damage is. The engine never repairs it silently.
/// </summary>
public sealed class EdgeCorruptionException : EdgeException
{
    /// <summary>Creates a corruption error naming the damaged location.</summary>
    public EdgeCorruptionException(EdgeErrorCode code, string location, string message, Exception? innerException = null)
        : base(code, $"{message} (at {location})", innerException)
    {
        Location = location;
    }

    /// <summary>Where the damage is: a file and offset, a segment and LSN, a table and key.</summary>
    public string Location { get; }
}
