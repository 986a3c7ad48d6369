using System.Diagnostics;
using System.Globalization;

namespace CortexEdge.Core.Wal;

/// <summary>
/// One memory-mapped, preallocated segment file, named by its first LSN. Appends are serialized by
/// the owning <see cref="WriteAheadLog"/>; readers read up to <see cref="PublishedOffset"/> without
/// locks. Reference-counted: the mapping lives until the log and every reader using it let go, so a
/// trimmed (deleted) segment stays readable for a reader that is inside it.
/// </summary>
internal sealed unsafe partial class WalSegment
{
    public const string FileSuffix = ".wal";
    public const string TemporarySuffix = ".wal.tmp";
    private const int FileNameDigits = 20;

    private readonly IWalFile _file;
    private readonly IWalMapping _mapping;
    private readonly byte* _base;
    private long _publishedOffset;
    private long _flushedOffset;
    private long _lastLsn;
    private int _sealed;
    private int _referenceCount = 1;

    private WalSegment(IWalFile file, IWalMapping mapping, long firstLsn, bool writable)
    {
        _file = file;
        _mapping = mapping;
        _base = (byte*)mapping.Address;
        LengthBytes = mapping.Length;
        FirstLsn = firstLsn;
        Writable = writable;
        _publishedOffset = WalSegmentHeader.HeaderBytes;
        _flushedOffset = WalSegmentHeader.HeaderBytes;
        _lastLsn = firstLsn - 1;
    }

    public string Path => _file.Path;

    public string FileName => System.IO.Path.GetFileName(_file.Path);

    public long FirstLsn { get; }

    public long LengthBytes { get; }

    public bool Writable { get; }

    /// <summary>End of the complete records (readers may read below it).</summary>
    public long PublishedOffset => Volatile.Read(ref _publishedOffset);

    /// <summary>End of the bytes made durable. Read and written under the log's flush lock.</summary>
    public long FlushedOffset => _flushedOffset;

    /// <summary>LSN of the last complete record, FirstLsn - 1 when empty.</summary>
    public long LastLsn => Volatile.Read(ref _lastLsn);

    /// <summary>True once a later segment exists: nothing more will be appended here.</summary>
    public bool IsSealed => Volatile.Read(ref _sealed) != 0;

    public long RemainingBytes => LengthBytes - _publishedOffset;

    /// <summary>The whole mapped file.</summary>
    public ReadOnlySpan<byte> Bytes => new(_base, checked((int)LengthBytes));

    private Span<byte> WritableBytes => Writable ? new(_base, checked((int)LengthBytes)) : throw new InvalidOperationException($"WAL segment '{Path}' is mapped read-only");

    public static string FileNameFor(long firstLsn) => firstLsn.ToString("D20", CultureInfo.InvariantCulture) + FileSuffix;

    /// <summary>Parses a segment file name ("00000000000000000001.wal") into its first LSN.</summary>
    public static bool TryParseFileName(string fileName, out long firstLsn)
    {
        firstLsn = 0;
        return fileName.Length == FileNameDigits + FileSuffix.Length
            && fileName.EndsWith(FileSuffix, StringComparison.Ordinal)
            && fileName.AsSpan(0, FileNameDigits).IndexOfAnyExceptInRange('0', '9') < 0
            && long.TryParse(fileName.AsSpan(0, FileNameDigits), NumberStyles.None, CultureInfo.InvariantCulture, out firstLsn)
            && firstLsn > 0;
    }

    /// <summary>
    /// Creates a segment: a temporary file is preallocated, its header written and synced, then it is
    /// renamed into place and the directory synced, so a visible segment always has a valid header.
    /// </summary>
    public static WalSegment Create(IWalFileSystem fileSystem, string directory, WalSegmentHeader header)
    {
        string path = System.IO.Path.Combine(directory, FileNameFor(header.FirstLsn));
        string temporaryPath = path + ".tmp";
        IWalFile file = fileSystem.Open(temporaryPath, WalFileMode.CreateNew);
        IWalMapping? mapping = null;
        bool renamed = false;
        try
        {
            file.Preallocate(header.SegmentBytes);
            mapping = file.Map(header.SegmentBytes, writable: true);
            header.Encode(new Span<byte>((byte*)mapping.Address, WalSegmentHeader.HeaderBytes));
            mapping.Flush(0, WalSegmentHeader.HeaderBytes);
            file.SyncData();
            fileSystem.Rename(temporaryPath, path);
            renamed = true;
            fileSystem.SyncDirectory(directory);
        }
        catch (Exception ex) when (ex is EdgeException or IOException or UnauthorizedAccessException)
        {
            // The segment holds no record yet: removing it (under whichever name it has) loses nothing.
            mapping?.Dispose();
            file.Dispose();
            DeleteQuietly(fileSystem, renamed ? path : temporaryPath, ex);
            throw;
        }

        var reopened = new RenamedFile(file, path);
        return new WalSegment(reopened, mapping, header.FirstLsn, writable: true);
    }

    /// <summary>Opens an existing segment file and maps all of it; the caller checks its contents.</summary>
    public static WalSegment OpenExisting(IWalFileSystem fileSystem, string path, long firstLsnFromName, bool writable)
    {
        IWalFile file = fileSystem.Open(path, writable ? WalFileMode.ReadWrite : WalFileMode.ReadOnly);
        try
        {
            long length = file.Length;
            if (length < WalSegmentHeader.HeaderBytes || length > WalOptions.SegmentBytesMax || length % WalRecordFormat.Alignment != 0)
            {
                throw new EdgeCorruptionException(EdgeErrorCode.WalCorrupt, $"{path} offset 0", $"WAL segment file has an impossible length of {length} bytes");
            }

            IWalMapping mapping = file.Map(length, writable);
            return new WalSegment(file, mapping, firstLsnFromName, writable);
        }
        catch (Exception ex) when (ex is EdgeException or IOException or ArgumentException)
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Sets the append position after recovery found the records' end.</summary>
    public void SetRecoveredEnd(long endOffset, long lastLsn)
    {
        _publishedOffset = endOffset;
        _flushedOffset = endOffset;
        _lastLsn = lastLsn;
    }

    /// <summary>Encodes one record at the append position and publishes it. Caller holds the append lock and checked the space.</summary>
    public void Append(long lsn, WalRecordKind kind, ReadOnlySpan<byte> payload, long encodedLength)
    {
        Debug.Assert(lsn == _lastLsn + 1, "LSNs are dense");
        Debug.Assert(encodedLength <= RemainingBytes, "caller checked the space");
        long offset = _publishedOffset;
        WalRecordFormat.Encode(WritableBytes.Slice((int)offset, (int)encodedLength), lsn, kind, payload);
        Volatile.Write(ref _lastLsn, lsn);
        Volatile.Write(ref _publishedOffset, offset + encodedLength);
    }

    public void Seal() => Volatile.Write(ref _sealed, 1);

    /// <summary>
    /// Makes every byte below <paramref name="endOffset"/> durable: msync of the page-aligned dirty
    /// range. Caller holds the flush lock. Throws <see cref="EdgeException"/> on failure; the bytes are
    /// then in an unknown state and the caller must not report them durable.
    /// </summary>
    public void FlushTo(long endOffset, int pageSize)
    {
        long flushed = _flushedOffset;
        if (endOffset <= flushed)
        {
            return;
        }

        long start = flushed & ~(long)(pageSize - 1);
        _mapping.Flush(start, endOffset - start);
        _flushedOffset = endOffset;
    }

    /// <summary>Zeroes [offset, offset + lengthBytes) and makes it durable (recovery cutting a torn tail).</summary>
    public void ZeroAndFlush(long offset, long lengthBytes, int pageSize)
    {
        WritableBytes.Slice((int)offset, (int)lengthBytes).Clear();
        long start = offset & ~(long)(pageSize - 1);
        _mapping.Flush(start, offset + lengthBytes - start);
        _file.SyncData();
    }

    /// <summary>Drops the resident pages below the page holding <paramref name="endOffset"/> from this process's memory (they stay in the page cache).</summary>
    public void EvictResident(long endOffset, int pageSize) => EvictResident(0, endOffset, pageSize);

    /// <summary>Drops the whole pages inside [<paramref name="startOffset"/>, <paramref name="endOffset"/>) from this process's memory.</summary>
    public void EvictResident(long startOffset, long endOffset, int pageSize)
    {
        long start = (startOffset + pageSize - 1) & ~(long)(pageSize - 1);
        long end = Math.Min(endOffset, LengthBytes) & ~(long)(pageSize - 1);
        if (end > start)
        {
            _mapping.Evict(start, end - start);
        }
    }

    /// <summary>Rewrites and syncs the segment header (salvage raising the log epoch).</summary>
    public void RewriteHeader(WalSegmentHeader header)
    {
        header.Encode(WritableBytes[..WalSegmentHeader.HeaderBytes]);
        _mapping.Flush(0, WalSegmentHeader.HeaderBytes);
        _file.SyncData();
    }

    public bool TryAddReference()
    {
        int count = Volatile.Read(ref _referenceCount);
        while (count > 0)
        {
            int seen = Interlocked.CompareExchange(ref _referenceCount, count + 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }

        return false;
    }

    public void Release()
    {
        int count = Interlocked.Decrement(ref _referenceCount);
        Debug.Assert(count >= 0, "segment released more often than referenced");
        if (count == 0)
        {
            _mapping.Dispose();
            _file.Dispose();
        }
    }

    private static void DeleteQuietly(IWalFileSystem fileSystem, string path, Exception cause)
    {
        try
        {
            fileSystem.Delete(path);
        }
        catch (EdgeException deleteError)
        {
            // The creation error is the one to report; the leftover .tmp is removed at the next open.
            throw new EdgeException(EdgeErrorCode.WalIoError, $"creating WAL segment failed ({cause.Message}) and its temporary file '{path}' could not be removed", new AggregateException(cause, deleteError));
        }
    }

    /// <summary>An open file whose path changed by a rename after it was opened.</summary>
    private sealed class RenamedFile(IWalFile inner, string path) : IWalFile
    {
        public string Path { get; } = path;

        public long Length => inner.Length;

        public void Preallocate(long lengthBytes) => inner.Preallocate(lengthBytes);

        public void Truncate(long lengthBytes) => inner.Truncate(lengthBytes);

        public void SyncData() => inner.SyncData();

        public IWalMapping Map(long lengthBytes, bool writable) => inner.Map(lengthBytes, writable);

        public void Dispose() => inner.Dispose();
    }
}
