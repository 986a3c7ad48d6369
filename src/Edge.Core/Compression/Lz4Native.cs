using System.Runtime.InteropServices;

namespace CortexEdge.Core.Compression;

/// <summary>Raw imports of the system liblz4 block API (linked statically in the AOT binary).</summary>
internal static partial class Lz4Native
{
    private const string Library = "lz4";

    [LibraryImport(Library, EntryPoint = "LZ4_versionNumber")]
    internal static partial int VersionNumber();

    [LibraryImport(Library, EntryPoint = "LZ4_compressBound")]
    internal static partial int CompressBound(int inputSize);

    [LibraryImport(Library, EntryPoint = "LZ4_compress_default")]
    internal static unsafe partial int CompressDefault(byte* source, byte* destination, int sourceSize, int maxDestinationSize);

    [LibraryImport(Library, EntryPoint = "LZ4_decompress_safe")]
    internal static unsafe partial int DecompressSafe(byte* source, byte* destination, int compressedSize, int maxDecompressedSize);
}
