using System.Globalization;
using System.Runtime.InteropServices;

namespace CortexEdge.Agent.Daemon;

/// <summary>
/// Keeps the daemon's resident set to the code it runs. The binary is one ~20 MB file mapped into
/// memory; start-up (config, Kestrel, SQLite schema, and the kernel's read-ahead and fault-around
/// of neighbouring pages) leaves most of it resident although an idle or ingesting daemon runs a
/// small part. Once ready, the daemon pages the binary's mappings out (clean file pages: the
/// kernel drops them from this process and, unless something else maps them, from memory) and
/// advises random access so pages faulted back in on use come without read-ahead.
/// Best effort: a failure changes nothing but memory.
/// </summary>
internal static partial class ExecutableMapping
{
    private const int AdviseRandom = 1; // MADV_RANDOM: no read-ahead on later faults
    private const int AdvisePageOut = 21; // MADV_PAGEOUT (Linux 5.4+): reclaim now, fault back in on use

    /// <summary>Pages out the running binary's mappings, then advises random access on them; returns how many mappings took both.</summary>
    public static int ReleaseStartupPages()
    {
        string? executable = Environment.ProcessPath;
        if (executable is null || !OperatingSystem.IsLinux())
        {
            return 0;
        }

        int advised = 0;
        try
        {
            // Lines: "start-end perms offset dev inode path".
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                if (!line.EndsWith(executable, StringComparison.Ordinal))
                {
                    continue;
                }

                int dash = line.IndexOf('-', StringComparison.Ordinal);
                int space = line.IndexOf(' ', StringComparison.Ordinal);
                if (dash <= 0 || space <= dash
                    || !ulong.TryParse(line.AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start)
                    || !ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end))
                {
                    continue;
                }

                // Both advices on every mapping, whether or not the first took.
                int pagedOut = Madvise((nint)start, (nuint)(end - start), AdvisePageOut);
                int random = Madvise((nint)start, (nuint)(end - start), AdviseRandom);
                if (pagedOut == 0 && random == 0)
                {
                    advised++;
                }
            }
        }
        catch (IOException)
        {
            // No /proc: nothing to advise.
        }

        return advised;
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}
