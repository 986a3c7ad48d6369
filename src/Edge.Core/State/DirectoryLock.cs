using System.Globalization;
using System.Text;

namespace CortexEdge.Core.State;

/// <summary>
/// Holds a database directory for one process at a time: an exclusive advisory lock (flock) on the
/// file <see cref="FileName"/> inside it, held for the lifetime of this object, with the holder's
/// pid written inside so a second opener can say who holds it. The lock dies with the process, so a
/// crash never leaves the directory locked.
/// </summary>
/// <remarks>Thread-safe to dispose more than once. A second open of the same directory, in this
/// process or another, fails while the first is held.</remarks>
public sealed partial class DirectoryLock : IDisposable
{
    /// <summary>Name of the lock file inside the database directory.</summary>
    public const string FileName = "LOCK";

    private FileStream? _stream;

    private DirectoryLock(string path, FileStream stream)
    {
        FilePath = path;
        _stream = stream;
    }

    /// <summary>Full path of the lock file.</summary>
    public string FilePath { get; }

    /// <summary>Takes the lock on <paramref name="directory"/> (which must exist).</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.DatabaseLocked"/>: another open holds it; the message names the holder's pid.</exception>
    public static DirectoryLock Acquire(string directory)
    {
        string path = Path.Combine(directory, FileName);
        FileStream stream;
        try
        {
            // FileShare.None makes .NET take flock(LOCK_EX | LOCK_NB) on Unix (a share-mode lock on Windows).
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        }
        catch (IOException exception) when (File.Exists(path))
        {
            string holder = TryReadHolderPid(path) is int pid ? $"process {pid}" : "another process (pid unknown)";
            throw new EdgeException(
                EdgeErrorCode.DatabaseLocked,
                $"The database directory '{directory}' is in use by {holder} (lock file {path}). Close it there first.",
                exception);
        }

        try
        {
            byte[] pid = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
            stream.SetLength(0);
            stream.Write(pid);
            stream.Flush();
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return new DirectoryLock(path, stream);
    }

    /// <summary>Releases the lock. The file stays; its content is stale until the next holder writes its pid.</summary>
    public void Dispose() => Interlocked.Exchange(ref _stream, null)?.Dispose();

    private static int? TryReadHolderPid(string path)
    {
        // The holder's flock also blocks .NET's own readers (they take LOCK_SH), so read with plain libc calls.
        Span<byte> buffer = stackalloc byte[32];
        int length = ReadUnlocked(path, buffer);
        if (length <= 0)
        {
            return null;
        }

        string text = Encoding.ASCII.GetString(buffer[..length]).Trim();
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : null;
    }
}
