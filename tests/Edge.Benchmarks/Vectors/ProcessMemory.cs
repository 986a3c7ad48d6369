namespace CortexEdge.Benchmarks.Vectors;

/// <summary>Resident memory of this process from /proc/self/status (anonymous and file-backed separately).</summary>
internal static class ProcessMemory
{
    /// <summary>Collects garbage (returning freed memory to the OS) and reads RssAnon and RssFile in bytes.</summary>
    internal static (long Anonymous, long File) Settle()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        long anonymous = 0, file = 0;
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                anonymous = ParseKilobytes(line);
            }
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal))
            {
                file = ParseKilobytes(line);
            }
        }

        return (anonymous, file);
    }

    private static long ParseKilobytes(string line) =>
        long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
}
