using System.Runtime.CompilerServices;
using CortexEdge.Core.Platform;

namespace CortexEdge.Sync.Tests.Protocol;

/// <summary>Resolves liblz4 for the frame codec before any test runs (idempotent; other areas may install it too).</summary>
internal static class ProtocolNativeSetup
{
    [ModuleInitializer]
    internal static void Initialize() => NativeLibraryResolver.Initialize();
}
