using System.Buffers.Binary;
using System.Numerics;

namespace CortexEdge.Core.Binary;

/// <summary>
/// CRC-32C (Castagnoli) over spans, hardware-accelerated where the CPU has it (x86 SSE4.2, ARMv8 CRC):
/// the one checksum of chunks, snapshots and index files (the WAL has its own, specialised to its record layout).
/// </summary>
internal static class Crc32C
{
    /// <summary>Continues a CRC-32C; start with <c>0</c> and chain calls for several spans.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint state = ~crc;
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }

        return ~state;
    }
}
