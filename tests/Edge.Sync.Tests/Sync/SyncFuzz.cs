using System.Buffers.Binary;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>Mutations of valid frames for fuzzing: random bytes, bit flips, truncation, splicing, and re-sealed frames whose checksum matches so the body parser is reached.</summary>
internal static class SyncFuzz
{
    public static byte[] Mutate(Random random, byte[] valid)
    {
        byte[] input = (byte[])valid.Clone();
        switch (random.Next(7))
        {
            case 0:
                input = new byte[random.Next(64)];
                random.NextBytes(input);
                break;
            case 1:
                input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                break;
            case 2:
                input = input[..random.Next(input.Length)];
                break;
            case 3:
                for (int k = random.Next(1, 4); k > 0; k--)
                {
                    input[random.Next(input.Length)] = (byte)random.Next(256);
                }

                Reseal(input);
                break;
            case 4:
                // Mutate the body (past the header) and re-seal: exercises the body parsers.
                int start = Math.Min(input.Length - 5, SyncFrameCodec.FixedHeaderBytes + 4);
                if (start > 0)
                {
                    input[start + random.Next(input.Length - 4 - start)] = (byte)random.Next(256);
                }

                Reseal(input);
                break;
            case 5:
                // Header lengths or type changed, then re-sealed.
                int field = random.Next(3);
                if (field == 0)
                {
                    input[5] = (byte)random.Next(10);
                }
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(field == 1 ? 16 : 20), (uint)random.Next(1 << 20));
                }

                Reseal(input);
                break;
            default:
                byte[] extra = new byte[random.Next(1, 16)];
                random.NextBytes(extra);
                input = [.. input[..^4], .. extra, 0, 0, 0, 0];
                Reseal(input);
                break;
        }

        return input;
    }

    private static void Reseal(byte[] input)
    {
        if (input.Length >= 8)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(input.Length - 4), Crc(input.AsSpan(0, input.Length - 4)));
        }
    }

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFF_FFFF;
        foreach (byte b in data)
        {
            crc = System.Numerics.BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
