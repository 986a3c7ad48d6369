using System.Buffers;
using System.Buffers.Binary;

namespace CortexEdge.Sync.Protocol;

/// <summary>Appends little-endian fields and LEB128 varints to a pooled, growing buffer.</summary>
internal sealed class FrameBodyWriter : IDisposable
{
    private byte[] _buffer;
    private int _length;

    public FrameBodyWriter(int initialCapacity) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public int Length => _length;

    public void WriteByte(byte value) => GetSpan(1)[0] = value;

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(GetSpan(2), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(GetSpan(4), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(GetSpan(8), value);

    public void WriteVarint(ulong value)
    {
        Span<byte> span = EnsureCapacity(10);
        int count = 0;
        while (value >= 0x80)
        {
            span[count++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[count++] = (byte)value;
        _length += count;
    }

    public void WriteVarint(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        WriteVarint((ulong)value);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(GetSpan(bytes.Length));

    public static int VarintLength(ulong value) => value < 0x80 ? 1 : (64 - System.Numerics.BitOperations.LeadingZeroCount(value) + 6) / 7;

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Span<byte> GetSpan(int count)
    {
        Span<byte> span = EnsureCapacity(count)[..count];
        _length += count;
        return span;
    }

    private Span<byte> EnsureCapacity(int count)
    {
        if (_length + count > _buffer.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        return _buffer.AsSpan(_length);
    }
}
