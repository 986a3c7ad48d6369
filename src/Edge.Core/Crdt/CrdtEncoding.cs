using System.Buffers;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// Shared framing of every CRDT encoding: one byte of format version, one byte of
/// <see cref="CrdtKind"/>, then the type's body (unsigned LEB128 varints, fixed-width fields little
/// endian). Encodings are canonical: equal states encode to equal bytes.
/// </summary>
public static class CrdtEncoding
{
    /// <summary>The only format version this build writes and reads.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Largest encoding any decoder accepts, in bytes; a guard against hostile lengths.</summary>
    public const int EncodedBytesMax = 16 * 1024 * 1024;

    /// <summary>Reads the kind from an encoding's header without decoding the body.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtMalformed"/> when the header is missing or of another version.</exception>
    public static CrdtKind PeekKind(ReadOnlySpan<byte> encoded)
    {
        var reader = new CrdtReader(encoded);
        return reader.ReadHeader();
    }

    /// <summary>Encodes <paramref name="crdt"/> into a new array (convenience for tests and tools; hot paths pass a buffer writer).</summary>
    public static byte[] ToArray<T>(T crdt)
        where T : IDeltaCrdt<T>
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        crdt.Encode(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    internal static void WriteHeader(ref CrdtWriter writer, CrdtKind kind)
    {
        writer.WriteByte(FormatVersion);
        writer.WriteByte((byte)kind);
    }
}
