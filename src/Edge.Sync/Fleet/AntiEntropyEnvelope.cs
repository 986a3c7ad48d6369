using System.Buffers;
using CortexEdge.Core.Documents;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// An anti-entropy message as it travels over MQTT: a varint request id (replies echo it), the
/// collection compared (varint-prefixed UTF-8), then the <see cref="AntiEntropyCodec"/> bytes.
/// </summary>
public readonly record struct AntiEntropyEnvelope(ulong RequestId, string Collection, AntiEntropyMessage Message)
{
    /// <summary>The encoding of this envelope.</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        FleetBufferWriter.WriteVarUInt(buffer, RequestId);
        FleetBufferWriter.WriteString(buffer, Collection);
        AntiEntropyCodec.Encode(Message, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes an envelope.</summary>
    /// <exception cref="FleetProtocolException">The envelope or its message does not decode.</exception>
    public static AntiEntropyEnvelope Decode(ReadOnlySpan<byte> source)
    {
        var reader = new FleetSpanReader(source, FleetErrorCode.AntiEntropyMalformed, "anti-entropy envelope");
        ulong requestId = reader.ReadVarUInt();
        string collection = reader.ReadString(DocumentLimits.CollectionNameBytesMax, "collection name");
        if (collection.Length == 0)
        {
            reader.Fail("empty collection name");
        }

        return new AntiEntropyEnvelope(requestId, collection, AntiEntropyCodec.Decode(source[reader.Offset..]));
    }
}
