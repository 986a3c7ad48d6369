using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CortexEdge.Core.Platform;

/// <summary>
/// Maps the native library names the engine imports ("e_sqlite3", "lz4") to the system's shared
/// objects when running under the JIT. In the Native AOT binary both are linked statically and the
/// direct calls never reach this resolver.
/// </summary>
public static class NativeLibraryResolver
{
    private static int s_initialized;

    /// <summary>
    /// Installs the resolvers and selects SQLitePCLRaw's provider. Idempotent and thread-safe;
    /// every entry point (the agent, tests, benchmarks) calls it before touching SQLite or LZ4.
    /// </summary>
    public static void Initialize()
    {
        if (Interlocked.Exchange(ref s_initialized, 1) != 0)
        {
            return;
        }

        // Always installed: the agent's JIT build (`dotnet cortex-edge.dll`) inherits PublishAot's
        // IsDynamicCodeSupported=false switch, yet needs the mapping; in the AOT binary the direct calls skip it.
        TrySetResolver(typeof(SQLitePCL.SQLite3Provider_e_sqlite3).Assembly);
        TrySetResolver(typeof(NativeLibraryResolver).Assembly);

        SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_e_sqlite3());
    }

    private static void TrySetResolver(Assembly assembly)
    {
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // A resolver was already set for this assembly (by a host); keep it.
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        string[] candidates = libraryName switch
        {
            "e_sqlite3" => ["libsqlite3.so.0", "libsqlite3.so", "libe_sqlite3.so"],
            "lz4" => ["liblz4.so.1", "liblz4.so"],
            _ => [],
        };
        foreach (string candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out IntPtr handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }
}
