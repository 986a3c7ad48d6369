namespace CortexEdge.Sync.Protocol;

/// <summary>A refusal: a stable code, a detail number (a sequence, an LSN, a limit) and a text for people.</summary>
public sealed class ErrorFrame : SyncFrame
{
    /// <inheritdoc />
    public override SyncFrameType Type => SyncFrameType.Error;

    /// <summary>What was refused and why.</summary>
    public required SyncProtocolErrorCode Code { get; init; }

    /// <summary>The sequence, LSN or limit the error is about (0 when none).</summary>
    public long Detail { get; init; }

    /// <summary>The explanation, at most <see cref="SyncFrameCodec.ErrorTextBytesMax"/> UTF-8 bytes (longer text is cut).</summary>
    public required string Message { get; init; }
}
