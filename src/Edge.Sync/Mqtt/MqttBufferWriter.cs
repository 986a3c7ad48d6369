using System.Buffers;
using System.Buffers.Binary;

namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}"/> with the MQTT primitive writes.
/// Not thread-safe. <see cref="Dispose"/> returns the array to the pool.
/// </summary>
internal sealed class MqttBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;

    public MqttBufferWriter(int initialCapacity = 256)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));
    }

    public int Length => _length;

    public int Capacity => _buffer.Length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    public void Clear() => _length = 0;

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _length))
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "Advanced past the end of the buffer.");
        }

        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_length++] = value;
    }

    public void WriteUInt16(ushort value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_length), value);
        _length += 2;
    }

    public void WriteUInt32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    public void WriteVariableByteInteger(int value)
    {
        Ensure(MqttVariableByteInteger.MaxLength);
        _length += MqttVariableByteInteger.Write(_buffer.AsSpan(_length), value);
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
    }

    /// <summary>Writes two-byte length-prefixed binary data.</summary>
    public void WriteBinary(ReadOnlySpan<byte> value, string field)
    {
        if (value.Length > ushort.MaxValue)
        {
            throw new MqttProtocolException(MqttErrorCode.MalformedPacket, $"Binary field {field} is {value.Length} bytes; MQTT allows at most {ushort.MaxValue}.");
        }

        WriteUInt16((ushort)value.Length);
        WriteBytes(value);
    }

    /// <summary>Writes a length-prefixed UTF-8 string, enforcing the MQTT string rules.</summary>
    public void WriteString(string value, string field)
    {
        int count = MqttUtf8.GetByteCount(value, field);
        Ensure(2 + count);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_length), (ushort)count);
        _length += 2;
        _length += MqttUtf8.Encode(value, _buffer.AsSpan(_length));
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int count)
    {
        if (count <= _buffer.Length - _length)
        {
            return;
        }

        int required = checked(_length + count);
        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(required, _buffer.Length * 2));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = larger;
    }
}
