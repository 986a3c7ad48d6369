namespace CortexEdge.Sync.Protocol;

/// <summary>
/// Size limits the codec and the sessions enforce. Frames are built to stay within them and
/// decoded frames beyond them are refused with <see cref="SyncProtocolErrorCode.FrameTooLarge"/>,
/// <see cref="SyncProtocolErrorCode.OpTooLarge"/> or <see cref="SyncProtocolErrorCode.TooManyOps"/>.
/// Immutable; share one instance.
/// </summary>
public sealed class SyncFrameLimits
{
    /// <summary>The defaults: 256 KiB frames (below mosquitto's and most brokers' packet limits), 64 KiB ops.</summary>
    public static SyncFrameLimits Default { get; } = new();

    /// <summary>Largest encoded frame in bytes (header, body and checksum): keep it under the broker's maximum packet size minus the topic.</summary>
    public int FrameBytesMax { get; init; } = 256 * 1024;

    /// <summary>Largest decompressed body in bytes a decoder accepts (bounds memory a hostile frame can claim).</summary>
    public int RawBodyBytesMax { get; init; } = 4 * 1024 * 1024;

    /// <summary>Largest op payload in bytes.</summary>
    public int OpBytesMax { get; init; } = 64 * 1024;

    /// <summary>Most ops in one batch.</summary>
    public int OpsPerBatchMax { get; init; } = 32 * 1024;

    /// <summary>Most version-vector entries in one pull.</summary>
    public int VersionVectorEntriesMax { get; init; } = 4096;

    /// <summary>
    /// Checks that the limits are coherent: an op of <see cref="OpBytesMax"/> must fit in a frame,
    /// or a node could hold an op it can never send.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(FrameBytesMax, 1024, nameof(FrameBytesMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(RawBodyBytesMax, FrameBytesMax, nameof(RawBodyBytesMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(OpBytesMax, 1, nameof(OpBytesMax));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(OpBytesMax, FrameBytesMax - SyncFrameCodec.FrameOverheadBytesMax, nameof(OpBytesMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(OpsPerBatchMax, 1, nameof(OpsPerBatchMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(VersionVectorEntriesMax, 1, nameof(VersionVectorEntriesMax));
    }
}
