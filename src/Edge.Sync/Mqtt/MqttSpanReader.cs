using System.Buffers.Binary;

namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Reads MQTT primitives (big-endian integers, variable byte integers, length-prefixed strings and
/// binary data) from a span. Every read checks the bounds first and throws
/// <see cref="MqttProtocolException"/> naming the field and offset; it never reads past the span.
/// </summary>
internal ref struct MqttSpanReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public MqttSpanReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool End => _position >= _buffer.Length;

    public byte ReadByte(string field)
    {
        if (_position >= _buffer.Length)
        {
            MqttThrow.Truncated(field, _position, 1, 0);
        }

        return _buffer[_position++];
    }

    public ushort ReadUInt16(string field)
    {
        Require(field, 2);
        ushort value = BinaryPrimitives.ReadUInt16BigEndian(_buffer.Slice(_position, 2));
        _position += 2;
        return value;
    }

    public uint ReadUInt32(string field)
    {
        Require(field, 4);
        uint value = BinaryPrimitives.ReadUInt32BigEndian(_buffer.Slice(_position, 4));
        _position += 4;
        return value;
    }

    /// <summary>Reads a variable byte integer (1 to 4 bytes, minimal encoding).</summary>
    public int ReadVariableByteInteger(string field)
    {
        int status = MqttVariableByteInteger.TryRead(_buffer[_position..], out int value, out int length);
        if (status == 0)
        {
            MqttThrow.Truncated(field, _position, 1, Remaining);
        }

        if (status < 0)
        {
            MqttThrow.Malformed($"Variable byte integer {field} at offset {_position} is longer than 4 bytes or not minimally encoded.");
        }

        _position += length;
        return value;
    }

    /// <summary>Reads two-byte length-prefixed binary data.</summary>
    public ReadOnlySpan<byte> ReadBinary(string field)
    {
        int length = ReadUInt16(field);
        Require(field, length);
        ReadOnlySpan<byte> value = _buffer.Slice(_position, length);
        _position += length;
        return value;
    }

    /// <summary>Reads a UTF-8 string and checks it against the MQTT string rules (well-formed, no U+0000).</summary>
    public ReadOnlySpan<byte> ReadUtf8(string field)
    {
        int start = _position;
        ReadOnlySpan<byte> value = ReadBinary(field);
        MqttUtf8.Validate(value, field, start);
        return value;
    }

    public string ReadString(string field) => MqttUtf8.GetString(ReadUtf8(field));

    public ReadOnlySpan<byte> ReadBytes(int count, string field)
    {
        Require(field, count);
        ReadOnlySpan<byte> value = _buffer.Slice(_position, count);
        _position += count;
        return value;
    }

    public ReadOnlySpan<byte> ReadRest()
    {
        ReadOnlySpan<byte> value = _buffer[_position..];
        _position = _buffer.Length;
        return value;
    }

    private readonly void Require(string field, int count)
    {
        if (count > _buffer.Length - _position)
        {
            MqttThrow.Truncated(field, _position, count, _buffer.Length - _position);
        }
    }
}
