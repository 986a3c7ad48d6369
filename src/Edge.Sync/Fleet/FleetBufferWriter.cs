using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace CortexEdge.Sync.Fleet;

/// <summary>Little-endian and varint writes onto an <see cref="IBufferWriter{T}"/> for the fleet encoders.</summary>
internal static class FleetBufferWriter
{
    public static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    public static void WriteUInt64(IBufferWriter<byte> output, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    public static void WriteVarUInt(IBufferWriter<byte> output, ulong value)
    {
        Span<byte> span = output.GetSpan(10);
        int count = 0;
        while (value >= 0x80)
        {
            span[count++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[count++] = (byte)value;
        output.Advance(count);
    }

    public static void WriteString(IBufferWriter<byte> output, string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        WriteVarUInt(output, (ulong)length);
        int written = Encoding.UTF8.GetBytes(text, output.GetSpan(length));
        output.Advance(written);
    }
}
