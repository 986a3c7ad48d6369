namespace CortexEdge.Core.Wal;

/// <summary>Where a WAL is damaged: the first invalid byte range that has valid records after it.</summary>
/// <param name="SegmentPath">Path of the segment file.</param>
/// <param name="SegmentFileName">File name of the segment (its first LSN).</param>
/// <param name="Offset">Byte offset of the invalid record or header inside the segment file.</param>
/// <param name="Reason">What failed (CRC, length, LSN, header) and what valid data follows.</param>
public sealed record WalCorruption(string SegmentPath, string SegmentFileName, long Offset, string Reason)
{
    /// <summary>"segment-file offset N".</summary>
    public string Location => $"{SegmentFileName} offset {Offset}";

    /// <summary>The error recovery raises for this damage.</summary>
    public EdgeCorruptionException ToException() =>
        new(EdgeErrorCode.WalCorrupt, $"{SegmentPath} offset {Offset}", $"WAL is corrupt in segment {SegmentFileName} at byte offset {Offset}: {Reason}; refusing to open");
}
