namespace CortexEdge.Core.Compression;

/// <summary>
/// LZ4 block compression over spans, backed by the system liblz4. Blocks carry no size header:
/// callers store the decompressed length beside the block (the sync frame and chunk formats do).
/// Thread-safe; allocates nothing.
/// </summary>
public static class Lz4
{
    /// <summary>Largest input LZ4 accepts in one block (LZ4_MAX_INPUT_SIZE).</summary>
    public const int InputBytesMax = 0x7E000000;

    /// <summary>The linked liblz4 version as a number (major * 10000 + minor * 100 + release).</summary>
    public static int Version => Lz4Native.VersionNumber();

    /// <summary>Worst-case compressed size of <paramref name="sourceLength"/> bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is negative or above <see cref="InputBytesMax"/>.</exception>
    public static int MaxCompressedLength(int sourceLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sourceLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sourceLength, InputBytesMax);
        return Lz4Native.CompressBound(sourceLength);
    }

    /// <summary>Compresses <paramref name="source"/> into <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException">The destination is smaller than <see cref="MaxCompressedLength"/> requires and the data did not fit.</exception>
    public static unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(source.Length, InputBytesMax, nameof(source));
        if (source.IsEmpty)
        {
            return 0;
        }

        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            int written = Lz4Native.CompressDefault(src, dst, source.Length, destination.Length);
            if (written <= 0)
            {
                throw new ArgumentException($"LZ4 output does not fit in {destination.Length} bytes (input {source.Length} bytes).", nameof(destination));
            }

            return written;
        }
    }

    /// <summary>
    /// Decompresses a block into <paramref name="destination"/>, never writing past it, whatever
    /// the input holds.
    /// </summary>
    /// <param name="source">The compressed block.</param>
    /// <param name="destination">Receives the decompressed bytes.</param>
    /// <param name="written">The number of bytes written when the call returns true.</param>
    /// <returns>False when the block is malformed or does not fit in the destination.</returns>
    public static unsafe bool TryDecompress(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
    {
        written = 0;
        if (source.IsEmpty)
        {
            return true;
        }

        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            int result = Lz4Native.DecompressSafe(src, dst, source.Length, destination.Length);
            if (result < 0)
            {
                return false;
            }

            written = result;
            return true;
        }
    }
}
