namespace CortexEdge.Core.Wal;

/// <summary>An open WAL file: raw operations only (see <see cref="IWalFileSystem"/>). Not thread-safe.</summary>
public interface IWalFile : IDisposable
{
    /// <summary>The file's path.</summary>
    string Path { get; }

    /// <summary>The file's current length in bytes.</summary>
    long Length { get; }

    /// <summary>
    /// Allocates disk blocks for the first <paramref name="lengthBytes"/> bytes (fallocate), so writes
    /// through a mapping can never hit ENOSPC (a SIGBUS). Throws <see cref="EdgeException"/> with
    /// <see cref="EdgeErrorCode.DiskFull"/> when the file system is full.
    /// </summary>
    void Preallocate(long lengthBytes);

    /// <summary>Sets the file's length (ftruncate).</summary>
    void Truncate(long lengthBytes);

    /// <summary>Writes data and the metadata needed to read it back (fdatasync).</summary>
    void SyncData();

    /// <summary>Maps the first <paramref name="lengthBytes"/> bytes (shared mapping); never past the file's length.</summary>
    IWalMapping Map(long lengthBytes, bool writable);
}

/// <summary>A shared memory mapping of an <see cref="IWalFile"/>. Reads and writes go straight to the page cache.</summary>
public interface IWalMapping : IDisposable
{
    /// <summary>Address of the first mapped byte.</summary>
    nint Address { get; }

    /// <summary>Mapped length in bytes.</summary>
    long Length { get; }

    /// <summary>
    /// Writes the mapped range [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="lengthBytes"/>)
    /// to disk and waits for it (msync MS_SYNC). <paramref name="offset"/> is a multiple of the system
    /// page size. A failure is reported once and never retried: the pages may already be lost.
    /// </summary>
    void Flush(long offset, long lengthBytes);

    /// <summary>
    /// Drops this process's resident pages of the range (madvise MADV_DONTNEED on a shared mapping):
    /// the bytes stay in the page cache and on disk, dirty ones included, and are faulted back in on
    /// the next access. Keeps the resident set small after a segment was scanned or read.
    /// <paramref name="offset"/> is a multiple of the system page size.
    /// </summary>
    void Evict(long offset, long lengthBytes);
}
