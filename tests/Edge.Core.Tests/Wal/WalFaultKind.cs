namespace CortexEdge.Core.Tests.Wal;

/// <summary>Named faults <see cref="FaultInjectingWalFileSystem"/> can inject.</summary>
public enum WalFaultKind
{
    /// <summary>msync of record data reports failure and nothing of the range reaches the disk.</summary>
    FlushFails,

    /// <summary>msync of record data reports EIO after the kernel wrote back some pages of the range (every other page) and dropped the rest.</summary>
    Eio,

    /// <summary>Only the first half of a flushed record-data range reaches the disk, then the flush reports failure.</summary>
    ShortWrite,

    /// <summary>fallocate reports ENOSPC: the disk is full when a segment is created.</summary>
    NoSpaceAtPreallocate,

    /// <summary>fdatasync reports EIO (segment creation and torn-tail repair use it).</summary>
    SyncDataFails,

    /// <summary>fsync of the directory fails.</summary>
    SyncDirectoryFails,
}
