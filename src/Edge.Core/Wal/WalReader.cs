namespace CortexEdge.Core.Wal;

/// <summary>
/// Streams records of a <see cref="WriteAheadLog"/> in LSN order from a starting LSN, across
/// segments, and sees records appended after it was opened. Not thread-safe: one consumer.
/// </summary>
/// <remarks>
/// A reader pins only the segment it is in (its mapping stays valid even if that segment is
/// trimmed); it never holds up trimming. When it must move to a segment that was trimmed,
/// <see cref="TryRead"/> throws <see cref="EdgeErrorCode.WalPositionTrimmed"/>. Every record is
/// checked (length, CRC, LSN) as it is read.
/// </remarks>
public sealed class WalReader : IDisposable
{
    private readonly WriteAheadLog _log;
    private WalSegment? _segment;
    private long _offset;
    private long _nextLsn;

    internal WalReader(WriteAheadLog log, WalSegment segment, long fromLsn)
    {
        _log = log;
        _segment = segment;
        _offset = WalSegmentHeader.HeaderBytes;
        _nextLsn = segment.FirstLsn;
        while (_nextLsn < fromLsn)
        {
            if (!TryRead(out _))
            {
                Dispose();
                throw new InvalidOperationException($"WAL reader could not reach LSN {fromLsn}: records end at {_nextLsn - 1}");
            }
        }
    }

    /// <summary>LSN the next successful <see cref="TryRead"/> returns.</summary>
    public long NextLsn => _nextLsn;

    /// <summary>
    /// Reads the next record. Returns false at the current end of the log; a later call returns
    /// records appended since. The record's spans are valid until the next call.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.WalPositionTrimmed"/> when the next segment was trimmed.</exception>
    /// <exception cref="EdgeCorruptionException">A record fails its check.</exception>
    /// <exception cref="ObjectDisposedException">The reader or the log is disposed.</exception>
    public bool TryRead(out WalRecord record)
    {
        WalSegment segment = _segment ?? throw new ObjectDisposedException(nameof(WalReader));
        while (true)
        {
            // Sealed is read before the published end: once sealed, the end no longer moves.
            bool sealedSegment = segment.IsSealed;
            long published = segment.PublishedOffset;
            if (_offset < published)
            {
                ReadOnlySpan<byte> bytes = segment.Bytes[(int)_offset..(int)published];
                WalRecordStatus status = WalRecordFormat.Check(bytes, _nextLsn, out WalRecordHeader header);
                if (status != WalRecordStatus.Valid)
                {
                    throw new EdgeCorruptionException(EdgeErrorCode.WalCorrupt, $"{segment.Path} offset {_offset}", $"WAL record LSN {_nextLsn} failed its check while reading: {status}");
                }

                record = new WalRecord(header.Lsn, header.Kind, header.Crc, bytes[..header.EncodedLength], header.PayloadLength);
                _offset += header.EncodedLength;
                _nextLsn++;
                return true;
            }

            if (!sealedSegment)
            {
                record = default;
                return false;
            }

            WalSegment next = _log.NextSegmentForReader(_nextLsn);
            segment.EvictResident(segment.LengthBytes, Environment.SystemPageSize); // read through: give its pages back
            segment.Release();
            _segment = segment = next;
            _offset = WalSegmentHeader.HeaderBytes;
            if (next.FirstLsn != _nextLsn)
            {
                throw new InvalidOperationException($"WAL segment after LSN {_nextLsn - 1} starts at {next.FirstLsn}");
            }
        }
    }

    /// <summary>Releases the pinned segment.</summary>
    public void Dispose()
    {
        WalSegment? segment = _segment;
        _segment = null;
        segment?.Release();
    }
}
