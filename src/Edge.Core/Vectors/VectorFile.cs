using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CortexEdge.Core.Clocks;

namespace CortexEdge.Core.Vectors;

/// <summary>
/// The float32 vectors of one collection in a memory-mapped file, one fixed-size slot per vector,
/// so exact rescoring reads them from the page cache instead of the managed heap. The file grows
/// by doubling; the new range is allocated on disk first (fallocate), because a store into a
/// mapped page the file system cannot back is a SIGBUS, not an exception.
/// </summary>
/// <remarks>
/// Layout (little-endian): a <see cref="HeaderBytes"/>-byte header (magic "CEVF", format version,
/// dimension, close state, token, state LSN) then slot i at HeaderBytes + i * (dimension * 4 + <see cref="TrailerBytes"/>):
/// the float32 vector, then a <see cref="TrailerBytes"/>-byte trailer with the slot's HLC version (time,
/// replica), its partition and position in the index, and its id: the UTF-8 length (16 bits) and up to
/// <see cref="InlineIdBytes"/> bytes inline; a longer id is kept in memory (<see cref="GetId"/>), and the
/// index file has every id, so an open restores those. The trailer keeps per-slot bookkeeping that the
/// scan never reads in reclaimable page cache instead of on the managed heap: writes, id lookups and
/// the top-k results touch it. The close state
/// says whether the slots still match the index file (<c>.idx</c>) saved with the same token: it is
/// set to "open" and synced to disk before the first change of a session (<see cref="MarkOpen"/>) and
/// back to "closed" with the new token after the index file is saved (<see cref="MarkClosed"/>), so a
/// crash in between leaves it "open" and the next open rebuilds. Not thread-safe: the owning
/// <see cref="VectorCollection"/> serializes writers against readers, and spans from
/// <see cref="Read"/> are valid only until the next <see cref="EnsureCapacity"/>.
/// </remarks>
internal sealed unsafe partial class VectorFile : IDisposable, IVectorIdSource
{
    /// <summary>Bytes before slot 0; a fixed format constant, independent of the page size.</summary>
    internal const int HeaderBytes = 4096;

    private const uint Magic = 0x46564543; // "CEVF"
    /// <summary>
    /// Bytes after each slot's floats: version time and replica (8 each), partition and position (4 each),
    /// id length (2) and the id inline (<see cref="InlineIdBytes"/>): 64, a cache line.
    /// </summary>
    internal const int TrailerBytes = 64;

    /// <summary>UTF-8 bytes of an id kept in the slot's trailer; a longer id is kept in memory.</summary>
    internal const int InlineIdBytes = TrailerBytes - IdOffset;

    private const int IdLengthOffset = 24;
    private const int IdOffset = 26;
    // Version 4: the trailer holds the id (64 bytes); version 3's 24-byte trailer is rebuilt once.
    private const ushort FormatVersion = 4;
    private const int CloseStateOffset = 12;
    private const int TokenOffset = 16;
    private const int StateLsnOffset = 24;
    private const uint StateOpen = 0;
    private const uint StateClosed = 0x534F4C43; // "CLOS"
    private const int InitialSlotCount = 1024;

    private readonly FileStream _stream;
    private readonly int _slotBytes;
    // Ids longer than InlineIdBytes, by slot (rare: UUIDs and most keys fit inline).
    private readonly Dictionary<int, byte[]> _longIds = [];
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private byte* _base;

    private VectorFile(string path, FileStream stream, int dimension)
    {
        Path = path;
        _stream = stream;
        Dimension = dimension;
        _slotBytes = checked((dimension * sizeof(float)) + TrailerBytes);
    }

    /// <summary>The file's path.</summary>
    internal string Path { get; }

    /// <summary>Floats per slot.</summary>
    internal int Dimension { get; }

    /// <summary>Slots the file currently holds room for.</summary>
    internal int SlotCapacity { get; private set; }

    /// <summary>Bytes of the file on disk.</summary>
    internal long FileBytes => _stream.Length;

    /// <summary>
    /// True when the file was closed after an index save and not changed since: its slots match the
    /// index file saved with <see cref="CloseToken"/>. A new file is not closed.
    /// </summary>
    internal bool IsClosed { get; private set; }

    /// <summary>The token of the index save the file was closed with (valid when <see cref="IsClosed"/>).</summary>
    internal ulong CloseToken { get; private set; }

    /// <summary>
    /// The owner's state-store checkpoint LSN at the clean close (valid when <see cref="IsClosed"/>), so
    /// files that outlive a restored or replaced state store are not trusted.
    /// </summary>
    internal long ClosedStateLsn { get; private set; }

    /// <summary>
    /// Records on disk that the file is being changed (no longer matches the saved index file), before
    /// the first change; a no-op when already open.
    /// </summary>
    internal void MarkOpen()
    {
        if (!IsClosed)
        {
            return;
        }

        Span<byte> state = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(state, StateOpen);
        WriteHeaderDurably(state, CloseStateOffset);
        IsClosed = false;
    }

    /// <summary>
    /// Writes every slot to disk (msync), then records that the file matches the index file saved with
    /// <paramref name="token"/>, and syncs that too.
    /// </summary>
    internal void MarkClosed(ulong token, long stateLsn)
    {
        _view?.Flush();
        _stream.Flush(flushToDisk: true);
        Span<byte> state = stackalloc byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(state, StateClosed);
        BinaryPrimitives.WriteUInt64LittleEndian(state[4..], token);
        BinaryPrimitives.WriteInt64LittleEndian(state[12..], stateLsn);
        WriteHeaderDurably(state, CloseStateOffset);
        IsClosed = true;
        CloseToken = token;
        ClosedStateLsn = stateLsn;
    }

    /// <summary>
    /// For a file still closed (unchanged this session): records the state store's new checkpoint LSN,
    /// so the unchanged index stays usable after a clean close that checkpointed other writes.
    /// </summary>
    internal void UpdateClosedStateLsn(long stateLsn)
    {
        if (!IsClosed || ClosedStateLsn == stateLsn)
        {
            return;
        }

        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, stateLsn);
        WriteHeaderDurably(bytes, StateLsnOffset);
        ClosedStateLsn = stateLsn;
    }

    /// <summary>Writes <paramref name="bytes"/> into the header at <paramref name="offset"/> and syncs the file.</summary>
    private void WriteHeaderDurably(ReadOnlySpan<byte> bytes, long offset)
    {
        RandomAccess.Write(_stream.SafeFileHandle, bytes, offset);
        _stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Opens the file at <paramref name="path"/>, creating it when absent. An existing file whose
    /// header is not a vector file of <paramref name="dimension"/> throws <see cref="EdgeCorruptionException"/>.
    /// </summary>
    internal static VectorFile Open(string path, int dimension)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Vector files are little-endian and are mapped directly; big-endian hosts are not supported.");
        }

        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
        var file = new VectorFile(path, stream, dimension);
        try
        {
            if (stream.Length == 0)
            {
                file.Allocate(HeaderBytes + ((long)InitialSlotCount * file._slotBytes));
                Span<byte> header = stackalloc byte[32];
                BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
                BinaryPrimitives.WriteUInt16LittleEndian(header[4..], FormatVersion);
                BinaryPrimitives.WriteInt32LittleEndian(header[8..], dimension);
                RandomAccess.Write(stream.SafeFileHandle, header, 0);
            }
            else
            {
                file.CheckHeader();
            }

            file.Map();
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Grows the file (doubling) until it holds at least <paramref name="slotCount"/> slots.</summary>
    internal void EnsureCapacity(int slotCount)
    {
        if (slotCount <= SlotCapacity)
        {
            return;
        }

        long slots = Math.Max(SlotCapacity, InitialSlotCount);
        while (slots < slotCount)
        {
            slots *= 2;
        }

        Unmap();
        Allocate(HeaderBytes + (slots * _slotBytes));
        Map();
    }

    /// <summary>Copies <paramref name="vector"/> into slot <paramref name="slot"/>.</summary>
    internal void Write(int slot, ReadOnlySpan<float> vector)
    {
        System.Diagnostics.Debug.Assert(vector.Length == Dimension, "vector length must equal the file's dimension");
        vector.CopyTo(Slot(slot));
    }

    /// <summary>The vector in slot <paramref name="slot"/>, read straight from the mapping.</summary>
    internal ReadOnlySpan<float> Read(int slot) => Slot(slot);

    /// <summary>The HLC version stored in slot <paramref name="slot"/>'s trailer.</summary>
    internal HlcTimestamp GetVersion(int slot)
    {
        byte* trailer = Trailer(slot);
        return new HlcTimestamp(Unsafe.ReadUnaligned<ulong>(trailer), Unsafe.ReadUnaligned<ulong>(trailer + 8));
    }

    /// <summary>Stores <paramref name="version"/> in slot <paramref name="slot"/>'s trailer.</summary>
    internal void SetVersion(int slot, HlcTimestamp version)
    {
        byte* trailer = Trailer(slot);
        Unsafe.WriteUnaligned(trailer, version.Time);
        Unsafe.WriteUnaligned(trailer + 8, version.ReplicaId);
    }

    /// <summary>The partition and position in it recorded for slot <paramref name="slot"/>.</summary>
    internal (int Partition, int Position) GetPlacement(int slot)
    {
        byte* trailer = Trailer(slot);
        return (Unsafe.ReadUnaligned<int>(trailer + 16), Unsafe.ReadUnaligned<int>(trailer + 20));
    }

    /// <summary>Records that slot <paramref name="slot"/> sits at <paramref name="position"/> of <paramref name="partition"/>.</summary>
    internal void SetPlacement(int slot, int partition, int position)
    {
        byte* trailer = Trailer(slot);
        Unsafe.WriteUnaligned(trailer + 16, partition);
        Unsafe.WriteUnaligned(trailer + 20, position);
    }

    /// <summary>Records a new position for slot <paramref name="slot"/> within its partition.</summary>
    internal void SetPosition(int slot, int position) => Unsafe.WriteUnaligned(Trailer(slot) + 20, position);

    /// <summary>
    /// The UTF-8 id stored for slot <paramref name="slot"/> (empty for a free slot), read from the mapping
    /// when inline: valid until the next <see cref="EnsureCapacity"/> or id change of the slot.
    /// </summary>
    public ReadOnlySpan<byte> GetId(int slot)
    {
        byte* trailer = Trailer(slot);
        int length = Unsafe.ReadUnaligned<ushort>(trailer + IdLengthOffset);
        if (length <= InlineIdBytes)
        {
            return new ReadOnlySpan<byte>(trailer + IdOffset, length);
        }

        return _longIds.TryGetValue(slot, out byte[]? id) ? id : [];
    }

    /// <summary>Stores <paramref name="id"/> (1..65535 UTF-8 bytes) as slot <paramref name="slot"/>'s id.</summary>
    internal void SetId(int slot, ReadOnlySpan<byte> id)
    {
        System.Diagnostics.Debug.Assert(id.Length is > 0 and <= ushort.MaxValue, "an id is 1..65535 bytes");
        byte* trailer = Trailer(slot);
        Unsafe.WriteUnaligned(trailer + IdLengthOffset, (ushort)id.Length);
        if (id.Length <= InlineIdBytes)
        {
            id.CopyTo(new Span<byte>(trailer + IdOffset, InlineIdBytes));
            _longIds.Remove(slot);
        }
        else
        {
            _longIds[slot] = id.ToArray();
        }
    }

    /// <summary>
    /// Copies slot <paramref name="from"/> — vector and trailer (version, placement, id) — over slot
    /// <paramref name="to"/>, moving a long id with it; <paramref name="from"/> keeps its bytes until cleared.
    /// </summary>
    internal void MoveSlot(int from, int to)
    {
        Slot(from);
        Slot(to);
        new ReadOnlySpan<byte>(_base + HeaderBytes + ((long)from * _slotBytes), _slotBytes)
            .CopyTo(new Span<byte>(_base + HeaderBytes + ((long)to * _slotBytes), _slotBytes));
        if (_longIds.Remove(from, out byte[]? id))
        {
            _longIds[to] = id;
        }
        else
        {
            _longIds.Remove(to);
        }
    }

    /// <summary>Marks slot <paramref name="slot"/> as holding no id.</summary>
    internal void ClearId(int slot)
    {
        Unsafe.WriteUnaligned(Trailer(slot) + IdLengthOffset, (ushort)0);
        _longIds.Remove(slot);
    }

    /// <summary>
    /// At an open from the index file: keeps slot <paramref name="slot"/>'s id in memory when it is too
    /// long for the trailer (which holds its length). The trailer itself is not read: it matches the
    /// index file saved with the same token, and reading it would page in the whole file at open.
    /// </summary>
    internal void RestoreLongId(int slot, ReadOnlySpan<byte> id)
    {
        if (id.Length > InlineIdBytes)
        {
            _longIds[slot] = id.ToArray();
        }
    }

    /// <summary>Heap bytes of the ids too long for their trailer (array header and bytes, plus a dictionary entry).</summary>
    internal long LongIdBytes
    {
        get
        {
            long bytes = 0;
            foreach (byte[] id in _longIds.Values)
            {
                bytes += 24 + ((id.Length + 7) & ~7) + 28;
            }

            return bytes;
        }
    }

    /// <summary>Writes dirty pages back to the file (msync).</summary>
    internal void Flush() => _view?.Flush();

    /// <inheritdoc/>
    public void Dispose()
    {
        Unmap();
        _stream.Dispose();
    }

    private Span<float> Slot(int slot)
    {
        if ((uint)slot >= (uint)SlotCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"slot is beyond the capacity {SlotCapacity} of {Path}");
        }

        return new Span<float>(_base + HeaderBytes + ((long)slot * _slotBytes), Dimension);
    }

    private byte* Trailer(int slot)
    {
        if ((uint)slot >= (uint)SlotCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"slot is beyond the capacity {SlotCapacity} of {Path}");
        }

        return _base + HeaderBytes + ((long)slot * _slotBytes) + (Dimension * sizeof(float));
    }

    private void CheckHeader()
    {
        Span<byte> header = stackalloc byte[32];
        int read = RandomAccess.Read(_stream.SafeFileHandle, header, 0);
        if (read < header.Length || BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.VectorFileCorrupt, $"{Path} offset 0", "the file is not a CortexEdge vector file (bad magic)");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != FormatVersion)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.VectorFileCorrupt, $"{Path} offset 4", $"vector file format version {version} is not supported (expected {FormatVersion})");
        }

        int dimension = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (dimension != Dimension)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.VectorFileCorrupt, $"{Path} offset 8", $"vector file holds dimension {dimension}, the collection has {Dimension}");
        }

        if (_stream.Length < HeaderBytes)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.VectorFileCorrupt, Path, $"vector file is {_stream.Length} bytes, shorter than its {HeaderBytes}-byte header");
        }

        IsClosed = BinaryPrimitives.ReadUInt32LittleEndian(header[CloseStateOffset..]) == StateClosed;
        CloseToken = BinaryPrimitives.ReadUInt64LittleEndian(header[TokenOffset..]);
        ClosedStateLsn = BinaryPrimitives.ReadInt64LittleEndian(header[StateLsnOffset..]);
    }

    private void Allocate(long length)
    {
        long current = _stream.Length;
        if (length <= current)
        {
            return;
        }

        if (OperatingSystem.IsLinux())
        {
            if (Fallocate(_stream.SafeFileHandle, 0, current, length - current) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                const int ENOSPC = 28, EOPNOTSUPP = 95;
                if (errno == ENOSPC)
                {
                    throw new EdgeException(EdgeErrorCode.VectorFileIoError, $"no space to grow {Path} to {length} bytes (fallocate: ENOSPC)");
                }

                if (errno != EOPNOTSUPP)
                {
                    throw new EdgeException(EdgeErrorCode.VectorFileIoError, $"fallocate of {Path} to {length} bytes failed with errno {errno}");
                }

                // File systems without fallocate (tmpfs on old kernels): extend, accepting the risk.
                _stream.SetLength(length);
            }
        }
        else
        {
            _stream.SetLength(length);
        }
    }

    private void Map()
    {
        long length = _stream.Length;
        SlotCapacity = (int)Math.Min(int.MaxValue, (length - HeaderBytes) / _slotBytes);
        _map = MemoryMappedFile.CreateFromFile(_stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        _view = _map.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;
    }

    private void Unmap()
    {
        if (_view is not null)
        {
            _view.Flush();
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _view = null;
        }

        _map?.Dispose();
        _map = null;
        _base = null;
    }

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(Microsoft.Win32.SafeHandles.SafeFileHandle fd, int mode, long offset, long length);
}
