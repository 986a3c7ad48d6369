namespace CortexEdge.Core.Wal;

/// <summary>The header fields of one encoded WAL record that passed every check (see <see cref="WriteAheadLog.TryDecodeRecord"/>).</summary>
/// <param name="Lsn">The record's log sequence number.</param>
/// <param name="Kind">What its payload holds.</param>
/// <param name="Crc">Its CRC32C as stored (covers header, payload and padding).</param>
/// <param name="PayloadLength">Payload bytes.</param>
/// <param name="EncodedLength">Bytes of the whole encoded record, padding included (a multiple of 8).</param>
public readonly record struct WalRecordInfo(long Lsn, WalRecordKind Kind, uint Crc, int PayloadLength, int EncodedLength)
{
    /// <summary>Offset of the payload inside the encoded record.</summary>
    public const int PayloadOffset = WalRecordFormat.HeaderBytes;
}
