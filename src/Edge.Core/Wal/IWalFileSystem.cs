namespace CortexEdge.Core.Wal;

/// <summary>
/// The raw file operations the WAL needs, and nothing more: the seam where tests inject faults.
/// Implementations do no retries and keep no rules; <see cref="WriteAheadLog"/> owns the checks.
/// Every failure is an <see cref="EdgeException"/> (<see cref="EdgeErrorCode.WalIoError"/>, or
/// <see cref="EdgeErrorCode.DiskFull"/> when space runs out), never a signal or a silent success.
/// </summary>
/// <remarks>Implementations must be safe to call from several threads on different files.</remarks>
public interface IWalFileSystem
{
    /// <summary>Creates <paramref name="directory"/> (and its parents) if it does not exist.</summary>
    void CreateDirectory(string directory);

    /// <summary>Names (not paths) of the files in <paramref name="directory"/> ending with <paramref name="suffix"/>, in no particular order.</summary>
    IReadOnlyList<string> ListFiles(string directory, string suffix);

    /// <summary>Opens a file. <see cref="WalFileMode.CreateNew"/> fails if it exists.</summary>
    IWalFile Open(string path, WalFileMode mode);

    /// <summary>Renames <paramref name="sourcePath"/> to <paramref name="targetPath"/> atomically, replacing nothing.</summary>
    void Rename(string sourcePath, string targetPath);

    /// <summary>Deletes a file; a mapping of it stays readable until unmapped.</summary>
    void Delete(string path);

    /// <summary>Makes creations, renames and deletions in <paramref name="directory"/> durable (fsync of the directory).</summary>
    void SyncDirectory(string directory);
}

/// <summary>How <see cref="IWalFileSystem.Open"/> opens a file.</summary>
public enum WalFileMode
{
    /// <summary>Open an existing file for reading only.</summary>
    ReadOnly,

    /// <summary>Open an existing file for reading and writing.</summary>
    ReadWrite,

    /// <summary>Create a new empty file for reading and writing; fails if it exists.</summary>
    CreateNew,
}
