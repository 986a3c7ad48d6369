using System.Runtime.InteropServices;

namespace CortexEdge.Agent.Policy;

/// <summary>
/// The few libc calls the GPIO character device needs. <c>ioctl</c> and <c>open</c> are variadic
/// in C; declaring the one extra argument is correct on Linux x64 and arm64 (AAPCS64 passes
/// variadic integer/pointer arguments in the same registers), which is all this product targets.
/// Flag and errno values are the asm-generic ones both architectures share.
/// </summary>
internal static unsafe partial class GpioNative
{
    private const string Library = "libc";

    public const int OpenReadWrite = 0x2;
    public const int OpenCloseOnExec = 0x80000;
    public const short PollIn = 0x1;
    public const short PollError = 0x8;
    public const short PollHangUp = 0x10;

    public const int ErrorNoEntry = 2;
    public const int ErrorInterrupted = 4;
    public const int ErrorNoDevice = 6;
    public const int ErrorAccess = 13;
    public const int ErrorBusy = 16;
    public const int ErrorNoSuchDevice = 19;
    public const int ErrorInvalid = 22;
    public const int ErrorNotTty = 25;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollDescriptor
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollDescriptor* descriptors, nuint count, int timeoutMilliseconds);

    [LibraryImport(Library, EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>A short name for an errno value in messages (the numeric value is always included).</summary>
    public static string DescribeErrno(int errno) => errno switch
    {
        ErrorNoEntry => "ENOENT",
        ErrorInterrupted => "EINTR",
        ErrorNoDevice => "ENXIO",
        ErrorAccess => "EACCES",
        ErrorBusy => "EBUSY",
        ErrorNoSuchDevice => "ENODEV",
        ErrorInvalid => "EINVAL",
        ErrorNotTty => "ENOTTY (not a GPIO character device)",
        _ => "errno",
    } + $" {errno}: {Marshal.GetPInvokeErrorMessage(errno)}";
}
