using System.Runtime.InteropServices;

namespace CortexEdge.Core.Wal;

/// <summary>The few libc calls the WAL needs that .NET does not expose (mmap, msync, fallocate, fdatasync).</summary>
internal static partial class LinuxNative
{
    private const string Library = "libc";

    // Values shared by Linux x86-64 and ARM64 (asm-generic).
    internal const int ProtRead = 0x1;
    internal const int ProtWrite = 0x2;
    internal const int MapShared = 0x01;
    internal const int MsSync = 4;
    internal const int MadviseDontNeed = 4;
    internal const int ErrnoInterrupted = 4;   // EINTR
    internal const int ErrnoIo = 5;            // EIO
    internal const int ErrnoNoSpace = 28;      // ENOSPC
    internal const int ErrnoNotSupported = 95; // EOPNOTSUPP
    internal static readonly nint MapFailed = -1;

    internal const int PriorityProcess = 0;  // PRIO_PROCESS; with who = 0 Linux applies it to the calling thread

    [LibraryImport(Library, EntryPoint = "setpriority", SetLastError = true)]
    internal static partial int SetPriority(int which, int who, int niceValue);

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(nint address, nuint length);

    [LibraryImport(Library, EntryPoint = "msync", SetLastError = true)]
    internal static partial int Msync(nint address, nuint length, int flags);

    [LibraryImport(Library, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(nint address, nuint length, int advice);

    [LibraryImport(Library, EntryPoint = "fallocate", SetLastError = true)]
    internal static partial int Fallocate(int fd, int mode, long offset, long length);

    /// <summary>Returns the error number itself (0 on success); it does not set errno.</summary>
    [LibraryImport(Library, EntryPoint = "posix_fallocate")]
    internal static partial int PosixFallocate(int fd, long offset, long length);

    [LibraryImport(Library, EntryPoint = "fdatasync", SetLastError = true)]
    internal static partial int Fdatasync(int fd);

    [LibraryImport(Library, EntryPoint = "fsync", SetLastError = true)]
    internal static partial int Fsync(int fd);

    [LibraryImport(Library, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int Ftruncate(int fd, long length);

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "strerror")]
    private static partial nint StrError(int errno);

    internal static string Describe(int errno)
    {
        nint text = StrError(errno);
        string name = text == 0 ? "unknown error" : Marshal.PtrToStringUTF8(text) ?? "unknown error";
        return $"errno {errno}: {name}";
    }
}
