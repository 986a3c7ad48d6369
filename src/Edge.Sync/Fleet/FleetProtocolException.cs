namespace CortexEdge.Sync.Fleet;

/// <summary>Bytes received from a peer (anti-entropy message, manifest, presence) do not decode; <see cref="Offset"/> says where.</summary>
public sealed class FleetProtocolException : FleetException
{
    /// <summary>Creates a decode error at <paramref name="offset"/> of the input.</summary>
    public FleetProtocolException(FleetErrorCode code, string message, int offset)
        : base(code, $"{message} (at byte {offset})")
    {
        Offset = offset;
    }

    /// <summary>Byte offset in the input where decoding failed.</summary>
    public int Offset { get; }
}
