namespace CortexEdge.Core.Wal;

/// <summary>
/// One record read by a <see cref="WalReader"/>. Its spans point into the mapped segment and are
/// valid until the reader's next <see cref="WalReader.TryRead"/> or dispose.
/// </summary>
public readonly ref struct WalRecord
{
    internal WalRecord(long lsn, WalRecordKind kind, uint crc, ReadOnlySpan<byte> encoded, int payloadLength)
    {
        Lsn = lsn;
        Kind = kind;
        Crc = crc;
        Encoded = encoded;
        Payload = encoded.Slice(WalRecordFormat.HeaderBytes, payloadLength);
    }

    /// <summary>The record's log sequence number.</summary>
    public long Lsn { get; }

    /// <summary>What the payload holds.</summary>
    public WalRecordKind Kind { get; }

    /// <summary>The record's CRC32C (as stored in it).</summary>
    public uint Crc { get; }

    /// <summary>The payload bytes.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>The whole encoded record (header, payload, padding), as replication ships it verbatim.</summary>
    public ReadOnlySpan<byte> Encoded { get; }
}
