using System.Diagnostics;

namespace CortexEdge.Core.Wal;

/// <summary>Verbatim appends for read replicas.</summary>
internal sealed unsafe partial class WalSegment
{
    /// <summary>
    /// Copies an already-encoded record (checked by the caller with <see cref="WalRecordFormat.Check"/>)
    /// at the append position and publishes it. Caller holds the append lock and checked the space.
    /// </summary>
    public void AppendEncoded(long lsn, ReadOnlySpan<byte> encoded)
    {
        Debug.Assert(lsn == _lastLsn + 1, "LSNs are dense");
        Debug.Assert(encoded.Length <= RemainingBytes, "caller checked the space");
        long offset = _publishedOffset;
        Span<byte> target = WritableBytes.Slice((int)offset, encoded.Length);
        encoded.CopyTo(target);

        // Check the copy, not only the source: what we publish must pass the reader's check.
        if (WalRecordFormat.Check(target, lsn, out _) != WalRecordStatus.Valid)
        {
            target.Clear();
            throw new EdgeCorruptionException(EdgeErrorCode.WalCorrupt, $"{FileName} offset {offset}", $"replicated WAL record LSN {lsn} failed its check after the copy");
        }

        Volatile.Write(ref _lastLsn, lsn);
        Volatile.Write(ref _publishedOffset, offset + encoded.Length);
    }
}
