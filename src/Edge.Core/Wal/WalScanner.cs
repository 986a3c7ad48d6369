namespace CortexEdge.Core.Wal;

/// <summary>
/// Reads a log's segments front to back and classifies what it finds, without changing anything:
/// the same bytes always give the same result. Used by recovery (which then acts on the result) and
/// by <see cref="WriteAheadLog.Verify"/>. (It does drop scanned pages from the resident set,
/// which changes memory use, never data.)
/// <para>
/// The rule: the first record that fails its check ends the log. If no valid record exists after
/// it (in its segment or any later one) it is a torn tail, the remains of writes a crash cut short;
/// otherwise it is mid-log corruption, and the result names the segment file and byte offset.
/// </para>
/// </summary>
internal static class WalScanner
{
    private const long EvictChunkBytes = 1 << 20;

    public static WalScanResult Scan(IReadOnlyList<WalSegment> segments)
    {
        int pageSize = Environment.SystemPageSize;
        var ends = new SegmentEnd[segments.Count];
        long records = 0;
        long nextLsn = 0;
        for (int i = 0; i < segments.Count; i++)
        {
            WalSegment segment = segments[i];
            ReadOnlySpan<byte> bytes = segment.Bytes;
            if (!WalSegmentHeader.TryDecode(bytes, out WalSegmentHeader header, out string problem))
            {
                return Corrupt(segments, i, 0, problem, records);
            }

            if (header.FirstLsn != segment.FirstLsn)
            {
                return Corrupt(segments, i, 0, $"segment header says first LSN {header.FirstLsn} but the file name says {segment.FirstLsn}", records);
            }

            if (header.SegmentBytes != segment.LengthBytes)
            {
                return Corrupt(segments, i, 0, $"segment file is {segment.LengthBytes} bytes but its header says {header.SegmentBytes}", records);
            }

            if (i > 0 && header.FirstLsn != nextLsn)
            {
                return Corrupt(segments, i, 0, $"segment starts at LSN {header.FirstLsn} but the previous segment ends before LSN {nextLsn}: records are missing", records);
            }

            nextLsn = header.FirstLsn;
            long offset = WalSegmentHeader.HeaderBytes;
            long evictedOffset = 0;
            while (true)
            {
                WalRecordStatus status = WalRecordFormat.Check(bytes[(int)offset..], nextLsn, out WalRecordHeader record);
                if (status == WalRecordStatus.Valid)
                {
                    offset += record.EncodedLength;
                    if (offset - evictedOffset >= EvictChunkBytes)
                    {
                        // Checked: drop the pages from the resident set (they stay cached), so
                        // scanning a long log costs about a chunk of memory, not the whole log.
                        segment.EvictResident(evictedOffset, offset, pageSize);
                        evictedOffset = offset & ~(long)(pageSize - 1);
                    }

                    nextLsn++;
                    records++;
                    continue;
                }

                if (status == WalRecordStatus.Empty && IsZeroToEnd(segment, offset, pageSize))
                {
                    segment.EvictResident(evictedOffset, offset, pageSize);
                    break; // clean end of this segment's records
                }

                string reason = status == WalRecordStatus.Empty
                    ? "unwritten record slot followed by nonzero bytes"
                    : Describe(status, nextLsn);
                ends[i] = new SegmentEnd(header, offset, nextLsn - 1);
                if (FindValidRecordAfter(segments, i, offset, nextLsn, out string? evidence))
                {
                    return Corrupt(segments, i, offset, $"invalid record ({reason}) with a valid record after it ({evidence})", records);
                }

                int lastNonZero = bytes.LastIndexOfAnyExcept((byte)0);
                return new WalScanResult(ends[..(i + 1)], records, TornSegmentIndex: i, TornOffset: offset, TornBytes: lastNonZero + 1 - offset, TornReason: reason,
                    TrailingEmptySegments: segments.Count - i - 1, Corruption: null);
            }

            ends[i] = new SegmentEnd(header, offset, nextLsn - 1);
        }

        return new WalScanResult(ends, records, TornSegmentIndex: -1, TornOffset: 0, TornBytes: 0, TornReason: null, TrailingEmptySegments: 0, Corruption: null);
    }

    /// <summary>True when every byte from <paramref name="offset"/> to the end of the segment is zero; checked a chunk at a time, each evicted after.</summary>
    private static bool IsZeroToEnd(WalSegment segment, long offset, int pageSize)
    {
        ReadOnlySpan<byte> bytes = segment.Bytes;
        for (long start = offset; start < bytes.Length; start += EvictChunkBytes)
        {
            int length = (int)Math.Min(EvictChunkBytes, bytes.Length - start);
            if (bytes.Slice((int)start, length).ContainsAnyExcept((byte)0))
            {
                return false;
            }

            segment.EvictResident(start, start + length, pageSize);
        }

        return true;
    }

    private static string Describe(WalRecordStatus status, long expectedLsn) => status switch
    {
        WalRecordStatus.Truncated => "fewer bytes than a record header left in the segment",
        WalRecordStatus.BadKind => "record kind is None",
        WalRecordStatus.BadReserved => "reserved header bytes are not zero",
        WalRecordStatus.BadLength => "record length runs past the end of the segment",
        WalRecordStatus.BadLsn => $"LSN is not the expected {expectedLsn}",
        WalRecordStatus.BadCrc => "CRC32C mismatch",
        _ => status.ToString(),
    };

    /// <summary>
    /// Looks for any record that passes its check (with an LSN at or past <paramref name="minLsn"/>)
    /// after <paramref name="offset"/> in segment <paramref name="segmentIndex"/> or anywhere in a later
    /// segment. Zero runs (unwritten space) are skipped quickly.
    /// </summary>
    private static bool FindValidRecordAfter(IReadOnlyList<WalSegment> segments, int segmentIndex, long offset, long minLsn, out string? evidence)
    {
        for (int i = segmentIndex; i < segments.Count; i++)
        {
            ReadOnlySpan<byte> bytes = segments[i].Bytes;
            long position = i == segmentIndex ? offset + WalRecordFormat.Alignment : WalSegmentHeader.HeaderBytes;
            long found = FindValidRecord(bytes, position, minLsn, out long lsn);
            if (found >= 0)
            {
                evidence = $"LSN {lsn} at {segments[i].FileName} offset {found}";
                return true;
            }
        }

        evidence = null;
        return false;
    }

    private static long FindValidRecord(ReadOnlySpan<byte> bytes, long start, long minLsn, out long lsn)
    {
        lsn = 0;
        long position = start;
        while (position + WalRecordFormat.HeaderBytes <= bytes.Length)
        {
            int nonZero = bytes[(int)position..].IndexOfAnyExcept((byte)0);
            if (nonZero < 0)
            {
                return -1;
            }

            // A record header's kind byte (offset 16) is nonzero, so a record can start at most 16
            // bytes before the first nonzero byte: jump there, keeping the 8-byte alignment.
            long candidate = (position + nonZero - 16) & ~(long)(WalRecordFormat.Alignment - 1);
            position = Math.Max(position, candidate);
            WalRecordStatus status = WalRecordFormat.Check(bytes[(int)position..], 0, out WalRecordHeader header);
            if (status == WalRecordStatus.Valid && header.Lsn >= minLsn)
            {
                lsn = header.Lsn;
                return position;
            }

            position += WalRecordFormat.Alignment;
        }

        return -1;
    }

    private static WalScanResult Corrupt(IReadOnlyList<WalSegment> segments, int index, long offset, string reason, long records) =>
        new([], records, -1, 0, 0, null, 0, new WalCorruption(segments[index].Path, segments[index].FileName, offset, reason));
}

/// <summary>Where a segment's valid records end.</summary>
internal readonly record struct SegmentEnd(WalSegmentHeader Header, long EndOffset, long LastLsn);

/// <summary>The outcome of <see cref="WalScanner.Scan"/>.</summary>
internal sealed record WalScanResult(
    SegmentEnd[] Ends,
    long RecordCount,
    int TornSegmentIndex,
    long TornOffset,
    long TornBytes,
    string? TornReason,
    int TrailingEmptySegments,
    WalCorruption? Corruption);
