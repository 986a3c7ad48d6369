using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CortexEdge.Core.Wal;

/// <summary>
/// The real <see cref="IWalFileSystem"/> on Linux: files opened through .NET, preallocated with
/// fallocate (falling back to posix_fallocate where the file system lacks it), mapped with mmap,
/// flushed with msync and fdatasync. Thread-safe: it holds no state of its own.
/// </summary>
public sealed class LinuxWalFileSystem : IWalFileSystem
{
    /// <summary>The shared instance.</summary>
    public static LinuxWalFileSystem Instance { get; } = new();

    /// <inheritdoc/>
    public void CreateDirectory(string directory) => Directory.CreateDirectory(directory);

    /// <inheritdoc/>
    public IReadOnlyList<string> ListFiles(string directory, string suffix)
    {
        var names = new List<string>();
        foreach (string path in Directory.EnumerateFiles(directory, "*" + suffix))
        {
            string name = System.IO.Path.GetFileName(path);
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <inheritdoc/>
    public IWalFile Open(string path, WalFileMode mode)
    {
        (FileMode fileMode, FileAccess access) = mode switch
        {
            WalFileMode.ReadOnly => (FileMode.Open, FileAccess.Read),
            WalFileMode.ReadWrite => (FileMode.Open, FileAccess.ReadWrite),
            WalFileMode.CreateNew => (FileMode.CreateNew, FileAccess.ReadWrite),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown WAL file mode"),
        };
        try
        {
            SafeFileHandle handle = File.OpenHandle(path, fileMode, access, FileShare.ReadWrite | FileShare.Delete);
            return new LinuxWalFile(path, handle, access == FileAccess.ReadWrite);
        }
        catch (IOException ex)
        {
            throw new EdgeException(EdgeErrorCode.WalIoError, $"cannot open WAL file '{path}' ({mode}): {ex.Message}", ex);
        }
    }

    /// <inheritdoc/>
    public void Rename(string sourcePath, string targetPath)
    {
        try
        {
            File.Move(sourcePath, targetPath, overwrite: false);
        }
        catch (IOException ex)
        {
            throw new EdgeException(EdgeErrorCode.WalIoError, $"cannot rename WAL file '{sourcePath}' to '{targetPath}': {ex.Message}", ex);
        }
    }

    /// <inheritdoc/>
    public void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException ex)
        {
            throw new EdgeException(EdgeErrorCode.WalIoError, $"cannot delete WAL file '{path}': {ex.Message}", ex);
        }
    }

    /// <inheritdoc/>
    public void SyncDirectory(string directory)
    {
        int fd = LinuxNative.Open(directory, 0 /* O_RDONLY: enough to fsync a directory */);
        if (fd < 0)
        {
            throw IoError($"cannot open WAL directory '{directory}' to sync it", Marshal.GetLastPInvokeError());
        }

        try
        {
            if (LinuxNative.Fsync(fd) != 0)
            {
                throw IoError($"fsync of WAL directory '{directory}' failed", Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            LinuxNative.Close(fd);
        }
    }

    internal static EdgeException IoError(string what, int errno) =>
        new(errno == LinuxNative.ErrnoNoSpace ? EdgeErrorCode.DiskFull : EdgeErrorCode.WalIoError, $"{what}: {LinuxNative.Describe(errno)}");

    private sealed class LinuxWalFile : IWalFile
    {
        private const int InterruptedRetryCountMax = 16;
        private readonly SafeFileHandle _handle;
        private readonly bool _writable;

        public LinuxWalFile(string path, SafeFileHandle handle, bool writable)
        {
            Path = path;
            _handle = handle;
            _writable = writable;
        }

        public string Path { get; }

        public long Length => RandomAccess.GetLength(_handle);

        private int Fd => (int)_handle.DangerousGetHandle();

        public void Preallocate(long lengthBytes)
        {
            for (int attempt = 0; ; attempt++)
            {
                if (LinuxNative.Fallocate(Fd, 0, 0, lengthBytes) == 0)
                {
                    return;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == LinuxNative.ErrnoInterrupted && attempt < InterruptedRetryCountMax)
                {
                    continue;
                }

                if (errno == LinuxNative.ErrnoNotSupported)
                {
                    // File systems without fallocate: glibc's posix_fallocate writes zeros instead.
                    int result = LinuxNative.PosixFallocate(Fd, 0, lengthBytes);
                    if (result == 0)
                    {
                        return;
                    }

                    errno = result;
                }

                throw errno == LinuxNative.ErrnoNoSpace
                    ? new EdgeException(EdgeErrorCode.DiskFull, $"disk full: cannot preallocate {lengthBytes} bytes for WAL segment '{Path}': {LinuxNative.Describe(errno)}")
                    : IoError($"cannot preallocate {lengthBytes} bytes for WAL segment '{Path}'", errno);
            }
        }

        public void Truncate(long lengthBytes)
        {
            if (LinuxNative.Ftruncate(Fd, lengthBytes) != 0)
            {
                throw IoError($"cannot set length of WAL file '{Path}' to {lengthBytes}", Marshal.GetLastPInvokeError());
            }
        }

        public void SyncData()
        {
            if (LinuxNative.Fdatasync(Fd) != 0)
            {
                throw IoError($"fdatasync of WAL file '{Path}' failed", Marshal.GetLastPInvokeError());
            }
        }

        public IWalMapping Map(long lengthBytes, bool writable)
        {
            if (writable && !_writable)
            {
                throw new InvalidOperationException($"WAL file '{Path}' was opened read-only and cannot be mapped writable");
            }

            if (lengthBytes <= 0 || lengthBytes > Length)
            {
                // Touching a mapped page past the end of the file raises SIGBUS: never map past it.
                throw new ArgumentOutOfRangeException(nameof(lengthBytes), lengthBytes, $"mapping of '{Path}' must be within its length {Length}");
            }

            int protection = LinuxNative.ProtRead | (writable ? LinuxNative.ProtWrite : 0);
            nint address = LinuxNative.Mmap(0, (nuint)lengthBytes, protection, LinuxNative.MapShared, Fd, 0);
            if (address == LinuxNative.MapFailed)
            {
                throw IoError($"mmap of WAL file '{Path}' ({lengthBytes} bytes) failed", Marshal.GetLastPInvokeError());
            }

            return new LinuxWalMapping(Path, address, lengthBytes);
        }

        public void Dispose() => _handle.Dispose();
    }

    private sealed class LinuxWalMapping : IWalMapping
    {
        private readonly string _path;
        private nint _address;

        public LinuxWalMapping(string path, nint address, long length)
        {
            _path = path;
            _address = address;
            Length = length;
        }

        public nint Address => _address;

        public long Length { get; }

        public void Flush(long offset, long lengthBytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(offset);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + lengthBytes, Length);
            if (lengthBytes == 0)
            {
                return;
            }

            if (LinuxNative.Msync(_address + (nint)offset, (nuint)lengthBytes, LinuxNative.MsSync) != 0)
            {
                throw IoError($"msync of WAL file '{_path}' bytes [{offset}, {offset + lengthBytes}) failed", Marshal.GetLastPInvokeError());
            }
        }

        public void Evict(long offset, long lengthBytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(offset);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + lengthBytes, Length);
            if (lengthBytes > 0 && LinuxNative.Madvise(_address + (nint)offset, (nuint)lengthBytes, LinuxNative.MadviseDontNeed) != 0)
            {
                throw IoError($"madvise(DONTNEED) of WAL file '{_path}' bytes [{offset}, {offset + lengthBytes}) failed", Marshal.GetLastPInvokeError());
            }
        }

        public void Dispose()
        {
            nint address = Interlocked.Exchange(ref _address, 0);
            if (address != 0)
            {
                LinuxNative.Munmap(address, (nuint)Length);
            }
        }
    }
}
