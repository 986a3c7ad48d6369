using System.Diagnostics;

namespace CortexEdge.Core.Wal;

/// <summary>Opening, recovery and verification.</summary>
public sealed partial class WriteAheadLog
{
    /// <summary>
    /// Opens the log in <paramref name="directory"/>, creating it when absent, and recovers it:
    /// every segment is scanned and every record checked; a torn tail (an invalid record with no
    /// valid record anywhere after it) is zeroed and reported in <see cref="Recovery"/>; leftovers of
    /// an interrupted segment creation are removed. Deterministic: the same files give the same log.
    /// </summary>
    /// <exception cref="EdgeCorruptionException">An invalid record or segment header with valid records after it, or a gap
    /// between segments; the message names the segment file and byte offset. Nothing is changed on disk.</exception>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.WalIoError"/> or <see cref="EdgeErrorCode.DiskFull"/> from the file system.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Invalid <paramref name="options"/>.</exception>
    public static WriteAheadLog Open(string directory, WalOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        IWalFileSystem fileSystem = options.FileSystem ?? LinuxWalFileSystem.Instance;
        long startTimestamp = Stopwatch.GetTimestamp();
        fileSystem.CreateDirectory(directory);
        foreach (string leftover in fileSystem.ListFiles(directory, WalSegment.TemporarySuffix))
        {
            // A segment is renamed into place only once complete; a .tmp was never part of the log.
            fileSystem.Delete(Path.Combine(directory, leftover));
        }

        List<WalSegment> segments = OpenSegments(fileSystem, directory, writable: true);
        try
        {
            int pageSize = Environment.SystemPageSize;
            if (segments.Count == 0)
            {
                segments.Add(WalSegment.Create(fileSystem, directory, new WalSegmentHeader(options.ReplicaId, 1, 1, options.SegmentBytes)));
            }

            WalScanResult scan = WalScanner.Scan(segments);
            if (scan.Corruption is { } corruption)
            {
                throw corruption.ToException();
            }

            for (int i = 0; i < scan.Ends.Length; i++)
            {
                segments[i].SetRecoveredEnd(scan.Ends[i].EndOffset, scan.Ends[i].LastLsn);
                if (i < scan.Ends.Length - 1)
                {
                    segments[i].Seal();
                }
            }

            string? tornLocation = null;
            int deleted = 0;
            if (scan.TornSegmentIndex >= 0)
            {
                WalSegment torn = segments[scan.TornSegmentIndex];
                tornLocation = $"{torn.FileName} offset {scan.TornOffset}";
                torn.ZeroAndFlush(scan.TornOffset, scan.TornBytes, pageSize);
                // Later segments hold no valid record (the scan checked): they only carry LSNs that were lost.
                for (int i = segments.Count - 1; i > scan.TornSegmentIndex; i--)
                {
                    fileSystem.Delete(segments[i].Path);
                    segments[i].Release();
                    segments.RemoveAt(i);
                    deleted++;
                }

                if (deleted > 0)
                {
                    fileSystem.SyncDirectory(directory);
                }
            }

            WalSegment active = segments[^1];
            var recovery = new WalRecoveryResult(
                segments.Count,
                scan.RecordCount,
                scan.TornBytes,
                tornLocation,
                scan.TornReason,
                deleted,
                segments[0].FirstLsn,
                active.LastLsn,
                Stopwatch.GetElapsedTime(startTimestamp));
            ulong epoch = scan.Ends.Length > 0 ? scan.Ends[^1].Header.LogEpoch : 1;
            return new WriteAheadLog(directory, options, fileSystem, segments, epoch, recovery);
        }
        catch
        {
            foreach (WalSegment segment in segments)
            {
                segment.Release();
            }

            throw;
        }
    }

    /// <summary>
    /// Checks every record of the log in <paramref name="directory"/> without opening it for writing
    /// and without changing anything (it may run beside the process that owns the log). Returns the
    /// first corruption (segment file and byte offset), or clean with counts. A torn tail is not
    /// corruption: it is reported, and the next <see cref="Open"/> cuts it.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.WalIoError"/> when a file cannot be read.</exception>
    public static WalVerifyResult Verify(string directory, IWalFileSystem? fileSystem = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        fileSystem ??= LinuxWalFileSystem.Instance;
        if (!System.IO.Directory.Exists(directory) && fileSystem is LinuxWalFileSystem)
        {
            throw new DirectoryNotFoundException($"WAL directory '{directory}' does not exist");
        }

        List<WalSegment> segments;
        try
        {
            segments = OpenSegments(fileSystem, directory, writable: false);
        }
        catch (EdgeCorruptionException ex)
        {
            // A file that cannot even be opened as a segment (bad name, impossible length).
            string path = ex.Location.EndsWith(" offset 0", StringComparison.Ordinal) ? ex.Location[..^" offset 0".Length] : ex.Location;
            return new WalVerifyResult(new WalCorruption(path, Path.GetFileName(path), 0, ex.Message), 0, 0, 0, 0, 0, null);
        }

        try
        {
            if (segments.Count == 0)
            {
                return new WalVerifyResult(null, 0, 0, 0, 0, 0, null);
            }

            WalScanResult scan = WalScanner.Scan(segments);
            long lastLsn = scan.Ends.Length > 0 ? scan.Ends[^1].LastLsn : 0;
            string? torn = scan.TornSegmentIndex >= 0 ? $"{segments[scan.TornSegmentIndex].FileName} offset {scan.TornOffset}" : null;
            return new WalVerifyResult(scan.Corruption, segments.Count, scan.RecordCount, segments[0].FirstLsn, lastLsn, scan.TornBytes, torn);
        }
        finally
        {
            foreach (WalSegment segment in segments)
            {
                segment.Release();
            }
        }
    }

    /// <summary>
    /// The explicit operator repair for mid-log corruption (which <see cref="Open"/> refuses): keeps
    /// the records before the first damaged one, zeroes the rest of that segment, deletes every later
    /// segment and raises the log epoch. The records after the damage are lost: this is for a person
    /// to run (<c>cortex-edge wal salvage</c>), never automatic. A log without corruption is left
    /// untouched. The log must not be open.
    /// </summary>
    /// <exception cref="EdgeCorruptionException">The first segment's header is damaged, so no record can be trusted.</exception>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.WalIoError"/> from the file system.</exception>
    public static WalSalvageResult Salvage(string directory, IWalFileSystem? fileSystem = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        fileSystem ??= LinuxWalFileSystem.Instance;
        List<WalSegment> segments = OpenSegments(fileSystem, directory, writable: true);
        try
        {
            WalScanResult scan = WalScanner.Scan(segments);
            if (scan.Corruption is not { } corruption)
            {
                long last = scan.Ends.Length > 0 ? scan.Ends[^1].LastLsn : 0;
                ulong epoch = scan.Ends.Length > 0 ? scan.Ends[^1].Header.LogEpoch : 1;
                return new WalSalvageResult(null, last, 0, 0, epoch);
            }

            int damaged = segments.FindIndex(s => s.Path == corruption.SegmentPath);
            int keptCount = corruption.Offset == 0 ? damaged : damaged + 1; // a damaged header loses its whole segment
            if (keptCount == 0)
            {
                throw corruption.ToException();
            }

            long droppedBytes = 0;
            if (corruption.Offset > 0)
            {
                WalSegment cut = segments[damaged];
                droppedBytes = Math.Max(0, cut.Bytes.LastIndexOfAnyExcept((byte)0) + 1 - corruption.Offset);
                if (droppedBytes > 0)
                {
                    cut.ZeroAndFlush(corruption.Offset, droppedBytes, Environment.SystemPageSize);
                }
            }

            // Later segments go before the epoch changes: a crash in between leaves a log that
            // Open refuses (a gap) and Salvage finishes.
            for (int i = segments.Count - 1; i >= keptCount; i--)
            {
                fileSystem.Delete(segments[i].Path);
            }

            fileSystem.SyncDirectory(directory);
            WalScanResult kept = WalScanner.Scan(segments[..keptCount]);
            if (kept.Corruption is { } remaining)
            {
                throw remaining.ToException();
            }

            SegmentEnd end = kept.Ends[^1];
            ulong newEpoch = end.Header.LogEpoch + 1;
            segments[keptCount - 1].RewriteHeader(end.Header with { LogEpoch = newEpoch });
            return new WalSalvageResult(corruption, end.LastLsn, droppedBytes, segments.Count - keptCount, newEpoch);
        }
        finally
        {
            foreach (WalSegment segment in segments)
            {
                segment.Release();
            }
        }
    }

    private static List<WalSegment> OpenSegments(IWalFileSystem fileSystem, string directory, bool writable)
    {
        var found = new List<(long FirstLsn, string Name)>();
        foreach (string name in fileSystem.ListFiles(directory, WalSegment.FileSuffix))
        {
            if (!WalSegment.TryParseFileName(name, out long firstLsn))
            {
                throw new EdgeCorruptionException(EdgeErrorCode.WalCorrupt, Path.Combine(directory, name), "unexpected file in the WAL directory: segment names are 20 decimal digits (the first LSN) and .wal");
            }

            found.Add((firstLsn, name));
        }

        found.Sort((a, b) => a.FirstLsn.CompareTo(b.FirstLsn));
        var segments = new List<WalSegment>(found.Count);
        try
        {
            foreach ((long firstLsn, string name) in found)
            {
                segments.Add(WalSegment.OpenExisting(fileSystem, Path.Combine(directory, name), firstLsn, writable));
            }
        }
        catch
        {
            foreach (WalSegment segment in segments)
            {
                segment.Release();
            }

            throw;
        }

        return segments;
    }
}
