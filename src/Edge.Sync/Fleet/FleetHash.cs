using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The 64-bit hashes anti-entropy compares: a fixed, platform-independent function (FNV-1a over
/// bytes, finished with the SplitMix64 mixer) so a node and a leader on different machines and
/// builds agree. Not cryptographic: it detects divergence, it does not defend against a peer that
/// forges collisions (authorization does that).
/// </summary>
public static class FleetHash
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    /// <summary>Hash of <paramref name="data"/>, seeded with <paramref name="seed"/>.</summary>
    public static ulong Hash(ReadOnlySpan<byte> data, ulong seed = 0)
    {
        ulong hash = FnvOffset ^ Mix(seed);
        int index = 0;
        // Eight bytes per step keeps it cheap on 100k documents; the tail goes byte by byte.
        for (; index + 8 <= data.Length; index += 8)
        {
            hash = (hash ^ BinaryPrimitives.ReadUInt64LittleEndian(data[index..])) * FnvPrime;
            hash ^= hash >> 29;
        }

        for (; index < data.Length; index++)
        {
            hash = (hash ^ data[index]) * FnvPrime;
        }

        return Mix(hash ^ (ulong)data.Length);
    }

    /// <summary>Hash of the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static ulong Hash(string text, ulong seed = 0)
    {
        int byteCount = Encoding.UTF8.GetByteCount(text);
        if (byteCount <= 512)
        {
            Span<byte> buffer = stackalloc byte[512];
            int written = Encoding.UTF8.GetBytes(text, buffer);
            return Hash(buffer[..written], seed);
        }

        return Hash(Encoding.UTF8.GetBytes(text), seed);
    }

    /// <summary>SplitMix64's finalizer: every input bit affects every output bit.</summary>
    public static ulong Mix(ulong value)
    {
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
        return value ^ (value >> 31);
    }

    /// <summary>Combines a key hash, a value hash and a version into one entry hash.</summary>
    public static ulong Combine(ulong keyHash, ulong valueHash, ulong version) =>
        Mix(keyHash ^ BitOperations.RotateLeft(valueHash, 21) ^ Mix(version + 0x9E3779B97F4A7C15UL));
}
