namespace CortexEdge.Sync.Protocol;

/// <summary>Why a frame could not be decoded: a stable code and a message naming the field and offset.</summary>
/// <param name="Code">The reason.</param>
/// <param name="Message">The explanation for logs and error replies.</param>
public readonly record struct SyncDecodeError(SyncProtocolErrorCode Code, string Message)
{
    /// <summary>Turns the error into the exception <see cref="SyncFrameCodec.Decode"/> throws.</summary>
    public SyncProtocolException ToException() => new(Code, Message);
}
