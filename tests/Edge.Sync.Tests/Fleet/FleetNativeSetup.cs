using System.Runtime.CompilerServices;
using CortexEdge.Core.Platform;

namespace CortexEdge.Sync.Tests.Fleet;

internal static class FleetNativeSetup
{
    // Idempotent: other test folders may install the same resolver.
    [ModuleInitializer]
    internal static void Initialize() => NativeLibraryResolver.Initialize();
}
