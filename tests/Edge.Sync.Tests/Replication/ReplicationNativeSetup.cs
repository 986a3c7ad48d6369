using System.Runtime.CompilerServices;
using CortexEdge.Core.Platform;

namespace CortexEdge.Sync.Tests.Replication;

internal static class ReplicationNativeSetup
{
    [ModuleInitializer]
    internal static void Initialize() => NativeLibraryResolver.Initialize();
}
