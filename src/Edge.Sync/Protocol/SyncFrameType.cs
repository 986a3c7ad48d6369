namespace CortexEdge.Sync.Protocol;

/// <summary>The kind of a sync frame (byte 5 of the header). Values are part of the wire format.</summary>
public enum SyncFrameType : byte
{
    /// <summary>Node -> leader: the node's own ops, consecutive origin sequences.</summary>
    UploadBatch = 1,

    /// <summary>Leader -> node: the highest origin sequence durable at the leader.</summary>
    Ack = 2,

    /// <summary>Leader -> node: a gap was seen; send again from the given sequence.</summary>
    ResendRequest = 3,

    /// <summary>Node -> leader: send me what follows leader LSN x (or resume a snapshot).</summary>
    Pull = 4,

    /// <summary>Leader -> node: ops in leader-LSN order.</summary>
    DownloadBatch = 5,

    /// <summary>Leader -> node: one chunk of a resumable snapshot.</summary>
    SnapshotChunk = 6,

    /// <summary>Either direction: a refusal with a code and a text.</summary>
    Error = 7,

    /// <summary>Leader -> node: up to date, or new data is available.</summary>
    Status = 8,
}
