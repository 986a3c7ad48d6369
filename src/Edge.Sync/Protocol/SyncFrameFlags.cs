namespace CortexEdge.Sync.Protocol;

/// <summary>Header flags (byte 6). Unknown bits are refused by the decoder.</summary>
[Flags]
public enum SyncFrameFlags : byte
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>The body is one LZ4 block; the header carries its decompressed length.</summary>
    Compressed = 1,

    /// <summary>The last frame of a response (a pull answer's final batch or chunk).</summary>
    Last = 2,
}
