using System.Runtime.CompilerServices;
using CortexEdge.Core.Platform;

namespace CortexEdge.Core.Tests.Infrastructure;

internal static class NativeSetup
{
    [ModuleInitializer]
    internal static void Initialize() => NativeLibraryResolver.Initialize();
}
