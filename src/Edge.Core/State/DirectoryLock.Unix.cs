using System.Runtime.InteropServices;

namespace CortexEdge.Core.State;

public sealed partial class DirectoryLock
{
    private const int OpenReadOnly = 0;

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes without taking any lock; -1 on error.</summary>
    private static int ReadUnlocked(string path, Span<byte> buffer)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return -1;
        }

        int fd = Open(path, OpenReadOnly);
        if (fd < 0)
        {
            return -1;
        }

        try
        {
            unsafe
            {
                fixed (byte* pointer = buffer)
                {
                    return (int)Read(fd, pointer, (nuint)buffer.Length);
                }
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
