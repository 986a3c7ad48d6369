using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.State;

namespace CortexEdge.Core.Vectors;

/// <summary>
/// The index's own file (<c>.idx</c>, beside the float32 <c>.vec</c> file): the trained centroids,
/// every partition's int8 codes (head and tail planes), scales, head norms, sign codes and member slots, the slot table
/// (id and document key per slot; versions and placements are in the float32 file's slot trailers)
/// and the caller's tombstones, so a reopen maps the file instead of
/// re-reading the state store, re-quantizing and re-training.
/// </summary>
/// <remarks>
/// <para>Layout (little-endian, the host order: <see cref="VectorFile"/> already requires it): a
/// <see cref="IndexHeaderBytes"/>-byte header — magic "CEVI", format version, dimension, metric, the
/// save token, payload length, CRC-32C of the payload, CRC-32C of the header — then the payload:
/// slot high-water mark, live count, partition count, trained count, sign-code flag, the centroids,
/// per partition its member count and arrays, then per slot a live flag and (live) id and key, then
/// the tombstones (version and id).</para>
/// <para>Consistency with the float32 file: the index file is written whole at a clean close (to a
/// temporary name, synced, renamed over the old one) with a fresh random token, and only then is the
/// float32 file marked closed with the same token (<see cref="VectorFile.MarkClosed"/>). The first
/// change of a later session marks the float32 file open again before anything is changed. So the
/// pair is used at open only when the float32 file is closed, the tokens agree and both checksums
/// pass; otherwise (missing, truncated, bit rot, a crash while open) the owner rebuilds from its state
/// store and the reason is reported in <see cref="VectorCollectionStatistics.IndexFileProblem"/>.</para>
/// </remarks>
public sealed partial class VectorCollection
{
    /// <summary>File name extension of the index file.</summary>
    internal const string IndexFileExtension = ".idx";

    private const uint IndexMagic = 0x49564543; // "CEVI"
    // Version 2: codes in a head and a tail plane, 16-bit head norms instead of float residual norms
    // (a version-1 file is rebuilt).
    // 3: a flat partition may have identity slots (no slot array), and scales are 16-bit (bfloat16);
    // version 2 files are rebuilt once.
    private const ushort IndexFormatVersion = 3;
    private const int IndexHeaderBytes = 64;
    private const int IndexHeaderCrcOffset = 44;

    /// <summary>True when this instance was opened from its index file rather than built.</summary>
    internal bool LoadedFromIndexFile { get; private set; }

    /// <summary>Why the index file was not used at open (set by the owner that rebuilt the index); null otherwise.</summary>
    internal string? IndexFileProblem { get; set; }

    /// <summary>True when the index changed since it was opened from or saved to its index file.</summary>
    internal bool HasUnsavedChanges
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return !_disposed && !_file.IsClosed;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>
    /// Records that state kept beside the index (the owner's tombstones) changed, so the saved index
    /// file no longer describes the collection.
    /// </summary>
    internal void MarkChanged()
    {
        _lock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _file.MarkOpen();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Writes the whole index, with <paramref name="tombstones"/>, to <paramref name="indexPath"/> and
    /// marks the float32 file closed with the same token. Call it at a clean close, after every applied
    /// op is durable in the owner's log (an index file must never describe a write the log lost).
    /// </summary>
    /// <param name="indexPath">Where the index file goes.</param>
    /// <param name="tombstones">The owner's tombstones, saved with the index.</param>
    /// <param name="stateLsn">The owner's state-store checkpoint LSN now; <see cref="TryOpen"/> must be given the same.</param>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.VectorFileIoError"/> when the file cannot be written; the float32 file then stays open, so the next open rebuilds.</exception>
    internal void SaveIndexFile(string indexPath, IReadOnlyDictionary<string, HlcTimestamp> tombstones, long stateLsn)
    {
        ArgumentException.ThrowIfNullOrEmpty(indexPath);
        ArgumentNullException.ThrowIfNull(tombstones);
        _lock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ulong token = StateStore.NewReplicaId();
            string temporary = indexPath + ".tmp";
            try
            {
                using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20))
                {
                    stream.Write(new byte[IndexHeaderBytes]);
                    var writer = new IndexWriter(stream);
                    WritePayload(ref writer, tombstones);
                    writer.Flush();
                    byte[] header = new byte[IndexHeaderBytes];
                    BinaryPrimitives.WriteUInt32LittleEndian(header, IndexMagic);
                    BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), IndexFormatVersion);
                    BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), Dimension);
                    BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), (int)Metric);
                    BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), token);
                    BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(24), writer.Length);
                    BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(32), writer.Crc);
                    BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(IndexHeaderCrcOffset), Binary.Crc32C.Append(0, header.AsSpan(0, IndexHeaderCrcOffset)));
                    stream.Position = 0;
                    stream.Write(header);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temporary, indexPath, overwrite: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                TryDelete(temporary);
                throw new EdgeException(EdgeErrorCode.VectorFileIoError, $"could not save the index of vector collection '{Name}' to {indexPath}: {exception.Message}", exception);
            }

            _file.MarkClosed(token, stateLsn);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// For a collection unchanged since its index file was saved or opened: records the owner's new
    /// state-store checkpoint LSN (a clean close that checkpointed other writes); no-op otherwise.
    /// </summary>
    internal void RecordCleanClose(long stateLsn)
    {
        _lock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _file.UpdateClosedStateLsn(stateLsn);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Opens a collection from its float32 file and index file when both are present, closed with the
    /// same token at <paramref name="stateLsn"/> and intact; otherwise returns null with
    /// <paramref name="problem"/> saying why (the caller then creates an empty collection and rebuilds
    /// it from its state store).
    /// </summary>
    internal static VectorCollection? TryOpen(
        string name, string vectorPath, string indexPath, VectorCollectionOptions options, long stateLsn,
        out Dictionary<string, HlcTimestamp> tombstones, out EdgeCorruptionException? problem)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        tombstones = new Dictionary<string, HlcTimestamp>(StringComparer.Ordinal);
        if (!File.Exists(indexPath) || !File.Exists(vectorPath))
        {
            problem = new EdgeCorruptionException(EdgeErrorCode.VectorFileCorrupt, File.Exists(indexPath) ? vectorPath : indexPath, "the file is missing");
            return null;
        }

        VectorFile? file = null;
        try
        {
            file = VectorFile.Open(vectorPath, options.Dimension);
            if (!file.IsClosed)
            {
                throw new EdgeCorruptionException(EdgeErrorCode.VectorFileCorrupt, vectorPath,
                    "the float32 file was not closed after the last index save (the process stopped while the collection was changing)");
            }

            if (file.ClosedStateLsn != stateLsn)
            {
                throw new EdgeCorruptionException(EdgeErrorCode.VectorFileCorrupt, vectorPath,
                    $"the index files were closed with the state store at checkpoint LSN {file.ClosedStateLsn}, but it is at {stateLsn} (a restored or replaced state store)");
            }

            var collection = new VectorCollection(name, file, options);
            collection.ReadIndexFile(indexPath, tombstones);
            collection.LoadedFromIndexFile = true;
            problem = null;
            return collection;
        }
        catch (EdgeCorruptionException exception)
        {
            file?.Dispose();
            tombstones.Clear();
            problem = exception;
            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            file?.Dispose();
            tombstones.Clear();
            problem = new EdgeCorruptionException(EdgeErrorCode.VectorFileCorrupt, indexPath, $"the index file cannot be read: {exception.Message}", exception);
            return null;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stale temporary file is overwritten by the next save.
        }
    }

    private void WritePayload(ref IndexWriter writer, IReadOnlyDictionary<string, HlcTimestamp> tombstones)
    {
        int dimension = Dimension;
        writer.Int32(_slotHigh);
        writer.Int32(_idMap.Count);
        writer.Int32(_partitions.Length);
        writer.Int32(_trainedCount);
        writer.Int32(_signCodes ? 1 : 0);
        writer.Bytes(MemoryMarshal.AsBytes(_centroids.AsSpan(0, _partitions.Length * dimension)));
        foreach (VectorPartition partition in _partitions)
        {
            int count = partition.Count;
            writer.Int32(count);
            // Identity slots (a flat index, member j is slot j) have no slot array.
            writer.Int32(partition.Slots is null ? 1 : 0);
            if (partition.Slots is { } slots)
            {
                writer.Bytes(MemoryMarshal.AsBytes(slots.AsSpan(0, count)));
            }

            writer.Bytes(MemoryMarshal.AsBytes(partition.Scales.AsSpan(0, count)));
            writer.Bytes(MemoryMarshal.AsBytes(partition.HeadNorms.AsSpan(0, count)));
            writer.Bytes(MemoryMarshal.AsBytes(partition.HeadCodes.AsSpan(0, count * partition.HeadLength)));
            writer.Bytes(MemoryMarshal.AsBytes(partition.TailCodes.AsSpan(0, count * partition.TailLength)));
            writer.Bytes(MemoryMarshal.AsBytes(partition.SignCodes.AsSpan(0, count * partition.SignWords)));
        }

        // Live slots are the partitions' members (a free slot's trailer is not trusted to be cleared).
        bool[] live = new bool[_slotHigh];
        foreach (VectorPartition partition in _partitions)
        {
            for (int j = 0; j < partition.Count; j++)
            {
                live[partition.SlotAt(j)] = true;
            }
        }

        for (int slot = 0; slot < _slotHigh; slot++)
        {
            if (!live[slot])
            {
                writer.Int32(0);
                continue;
            }

            // The id is also in the slot's trailer; the copy here restores ids too long for it and checks the pair.
            writer.Int32(1);
            writer.Utf8(_file.GetId(slot));
            if (_otherKeys.TryGetValue(slot, out string? key))
            {
                writer.String(key);
            }
            else
            {
                writer.Utf8(_file.GetId(slot));
            }
        }

        writer.Int32(tombstones.Count);
        foreach ((string id, HlcTimestamp version) in tombstones)
        {
            writer.Version(version);
            writer.String(id);
        }
    }

    private unsafe void ReadIndexFile(string indexPath, Dictionary<string, HlcTimestamp> tombstones)
    {
        long length = new FileInfo(indexPath).Length;
        if (length < IndexHeaderBytes)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.VectorFileCorrupt, indexPath, $"the index file is {length} bytes, shorter than its {IndexHeaderBytes}-byte header");
        }

        using var map = MemoryMappedFile.CreateFromFile(indexPath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using MemoryMappedViewAccessor view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            byte* start = pointer + view.PointerOffset;
            var header = new ReadOnlySpan<byte>(start, IndexHeaderBytes);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != IndexMagic)
            {
                throw Corrupt(indexPath, 0, "the file is not a CortexEdge vector index file (bad magic)");
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(header[IndexHeaderCrcOffset..]) != Binary.Crc32C.Append(0, header[..IndexHeaderCrcOffset]))
            {
                throw Corrupt(indexPath, 0, "the header fails its CRC-32C");
            }

            ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
            if (version != IndexFormatVersion)
            {
                throw Corrupt(indexPath, 4, $"index file format version {version} is not supported (expected {IndexFormatVersion})");
            }

            int dimension = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
            int metric = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            if (dimension != Dimension || metric != (int)Metric)
            {
                throw Corrupt(indexPath, 8, $"the index file holds dimension {dimension} and metric {metric}; the collection has {Dimension} and {Metric}");
            }

            if (BinaryPrimitives.ReadUInt64LittleEndian(header[16..]) != _file.CloseToken)
            {
                throw Corrupt(indexPath, 16, "the index file was saved with another token than the float32 file was closed with (the pair does not belong together)");
            }

            long payloadLength = BinaryPrimitives.ReadInt64LittleEndian(header[24..]);
            if (payloadLength != length - IndexHeaderBytes)
            {
                throw Corrupt(indexPath, 24, $"the header says {payloadLength} payload bytes but the file holds {length - IndexHeaderBytes} (truncated or extended)");
            }

            uint crc = 0;
            for (long offset = 0; offset < payloadLength; offset += 1 << 30)
            {
                crc = Binary.Crc32C.Append(crc, new ReadOnlySpan<byte>(start + IndexHeaderBytes + offset, (int)Math.Min(1 << 30, payloadLength - offset)));
            }

            if (crc != BinaryPrimitives.ReadUInt32LittleEndian(header[32..]))
            {
                throw Corrupt(indexPath, IndexHeaderBytes, "the payload fails its CRC-32C");
            }

            var reader = new IndexReader(start + IndexHeaderBytes, payloadLength, indexPath);
            ReadPayload(ref reader, tombstones);
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    private unsafe void ReadPayload(ref IndexReader reader, Dictionary<string, HlcTimestamp> tombstones)
    {
        int dimension = Dimension;
        int slotHigh = reader.Int32(0, int.MaxValue, "slot high-water mark");
        int live = reader.Int32(0, slotHigh, "live vector count");
        // Bounded by the bytes left for the centroids, so a damaged count cannot ask for a huge array.
        int partitionCount = reader.Int32(1, (int)Math.Clamp(reader.Remaining / (dimension * sizeof(float)), 1, int.MaxValue), "partition count");
        int trainedCount = reader.Int32(0, int.MaxValue, "trained count");
        bool signCodes = reader.Int32(0, 1, "sign-code flag") == 1;
        if (signCodes != _signCodes)
        {
            throw reader.Corrupt("the index file's sign-code setting differs from the collection's options");
        }

        if (slotHigh > _file.SlotCapacity)
        {
            throw reader.Corrupt($"the index names {slotHigh} slots but the float32 file holds {_file.SlotCapacity}");
        }

        float[] centroids = new float[checked(partitionCount * dimension)];
        reader.Copy(MemoryMarshal.AsBytes(centroids.AsSpan()));
        int signWords = signCodes ? ScalarQuantizer.SignWordCount(dimension) : 0;
        int headLength = VectorPartition.HeadLengthFor(dimension);
        // Which partition lists each slot; the slots' placement and version live in the float32
        // file's trailers, which are consistent with this file because it was closed with its token.
        int[] partitionOf = new int[slotHigh];
        partitionOf.AsSpan().Fill(-1);
        var partitions = new VectorPartition[partitionCount];
        int members = 0;
        for (int p = 0; p < partitionCount; p++)
        {
            int count = reader.Int32(0, live - members, "partition member count");
            members += count;
            bool identity = reader.Int32(0, 1, "identity slots flag") == 1;
            if (identity && (partitionCount != 1 || count != slotHigh))
            {
                throw reader.Corrupt($"partition {p} has identity slots, but there are {partitionCount} partitions and {count} members of {slotHigh} slots");
            }

            var partition = new VectorPartition(dimension, signCodes, count + (count / VectorPartition.GrowthDivisor), identity);
            partition.SetCountForRebuild(count);
            int[]? slots = partition.Slots;
            if (slots is not null)
            {
                reader.Copy(MemoryMarshal.AsBytes(slots.AsSpan(0, count)));
            }

            reader.Copy(MemoryMarshal.AsBytes(partition.Scales.AsSpan(0, count)));
            reader.Copy(MemoryMarshal.AsBytes(partition.HeadNorms.AsSpan(0, count)));
            reader.Copy(MemoryMarshal.AsBytes(partition.HeadCodes.AsSpan(0, count * headLength)));
            reader.Copy(MemoryMarshal.AsBytes(partition.TailCodes.AsSpan(0, count * (dimension - headLength))));
            reader.Copy(MemoryMarshal.AsBytes(partition.SignCodes.AsSpan(0, count * signWords)));
            for (int position = 0; position < count; position++)
            {
                int slot = slots is null ? position : slots[position];
                if ((uint)slot >= (uint)slotHigh || partitionOf[slot] != -1)
                {
                    throw reader.Corrupt($"partition {p} member {position} names slot {slot}, outside 0..{slotHigh - 1} or listed twice");
                }

                partitionOf[slot] = p;
            }

            partitions[p] = partition;
        }

        if (members != live)
        {
            throw reader.Corrupt($"the partitions hold {members} members; the index says {live} vectors are live");
        }

        var freeSlots = new Stack<int>();
        // The id map is built from the ids in this file (where each slot's id starts in the payload), not
        // from the float32 file's trailers, so an open reads none of the float32 file's pages.
        long[] idOffsets = new long[slotHigh];
        var payloadIds = new PayloadIds(reader.Start, idOffsets);
        _idMap.Reserve(live, payloadIds);
        for (int slot = 0; slot < slotHigh; slot++)
        {
            if (reader.Int32(0, 1, "slot live flag") == 0)
            {
                if (partitionOf[slot] != -1)
                {
                    throw reader.Corrupt($"slot {slot} is free in the slot table but a partition member");
                }

                freeSlots.Push(slot);
                continue;
            }

            if (partitionOf[slot] == -1)
            {
                throw reader.Corrupt($"slot {slot} is live in the slot table but in no partition");
            }

            ReadOnlySpan<byte> id = reader.Utf8("vector id");
            idOffsets[slot] = reader.Position - id.Length;
            if (!_idMap.TryAdd(id, slot, payloadIds))
            {
                throw reader.Corrupt($"vector id '{Encoding.UTF8.GetString(id)}' appears in two slots");
            }

            _file.RestoreLongId(slot, id);
            if (reader.StringUnlessSame("document key", id) is { } key)
            {
                // The collection is new and dropped when the load fails, so its map is filled in place.
                _otherKeys[slot] = key;
            }
        }

        int tombstoneCount = reader.Int32(0, int.MaxValue, "tombstone count");
        for (int i = 0; i < tombstoneCount; i++)
        {
            HlcTimestamp version = reader.Version();
            tombstones[reader.String("tombstone id")] = version;
        }

        reader.ExpectEnd();

        // Free slots are reused lowest first after a rebuild; any order is correct.
        _slotHigh = slotHigh;
        _partitions = partitions;
        _centroids = centroids;
        _trainedCount = trainedCount;
        foreach (int slot in freeSlots)
        {
            _freeSlots.Push(slot);
        }
    }

    private static EdgeCorruptionException Corrupt(string path, long offset, string message) =>
        new(EdgeErrorCode.VectorFileCorrupt, $"{path} offset {offset}", message);

    /// <summary>
    /// The ids of an index file's payload while it loads: <paramref name="offsets"/>[slot] is where the
    /// slot's id bytes start, after their 4-byte length (0 for a slot not read yet, never a real offset).
    /// </summary>
    private readonly unsafe struct PayloadIds(byte* payload, long[] offsets) : IVectorIdSource
    {
        public ReadOnlySpan<byte> GetId(int slot)
        {
            long offset = offsets[slot];
            return offset == 0 ? [] : new ReadOnlySpan<byte>(payload + offset, BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(payload + offset - 4, 4)));
        }
    }

    /// <summary>Buffered payload writer that keeps the running CRC-32C and length.</summary>
    private struct IndexWriter(Stream stream)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _used;

        internal uint Crc { get; private set; }

        internal long Length { get; private set; }

        internal void Int32(int value)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
            Bytes(bytes);
        }

        internal void Version(HlcTimestamp version)
        {
            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, version.Time);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], version.ReplicaId);
            Bytes(bytes);
        }

        internal void String(string value)
        {
            int byteCount = Encoding.UTF8.GetByteCount(value);
            Int32(byteCount);
            if (byteCount > _buffer.Length - _used)
            {
                Bytes(Encoding.UTF8.GetBytes(value));
                return;
            }

            Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_used));
            Crc = Binary.Crc32C.Append(Crc, _buffer.AsSpan(_used, byteCount));
            _used += byteCount;
            Length += byteCount;
        }

        /// <summary>Length-prefixed UTF-8 bytes, the same encoding as <see cref="String"/>.</summary>
        internal void Utf8(ReadOnlySpan<byte> value)
        {
            Int32(value.Length);
            Bytes(value);
        }

        internal void Bytes(ReadOnlySpan<byte> data)
        {
            Crc = Binary.Crc32C.Append(Crc, data);
            Length += data.Length;
            if (data.Length > _buffer.Length - _used)
            {
                Flush();
                if (data.Length >= _buffer.Length)
                {
                    stream.Write(data);
                    return;
                }
            }

            data.CopyTo(_buffer.AsSpan(_used));
            _used += data.Length;
        }

        internal void Flush()
        {
            stream.Write(_buffer, 0, _used);
            _used = 0;
        }
    }

    /// <summary>Bounds-checked reader over the mapped payload; every failure names the offset.</summary>
    private unsafe struct IndexReader(byte* start, long length, string path)
    {
        private long _position;

        /// <summary>The payload's first byte.</summary>
        internal readonly byte* Start => start;

        /// <summary>Bytes read so far.</summary>
        internal readonly long Position => _position;

        internal int Int32(int min, int max, string what)
        {
            int value = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
            if (value < min || value > max)
            {
                throw Corrupt($"{what} {value} is outside {min}..{max}");
            }

            return value;
        }

        internal HlcTimestamp Version()
        {
            ReadOnlySpan<byte> bytes = Take(16);
            return new HlcTimestamp(BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));
        }

        internal string String(string what)
        {
            int byteCount = Int32(1, Math.Max(VectorCodec.IdBytesMax, Documents.DocumentLimits.KeyBytesMax), $"{what} length");
            return Encoding.UTF8.GetString(Take(byteCount));
        }

        /// <summary>Like <see cref="String"/> for an id: its UTF-8 bytes, in the mapping (no copy), 1..<see cref="VectorCodec.IdBytesMax"/> long.</summary>
        internal ReadOnlySpan<byte> Utf8(string what)
        {
            int byteCount = Int32(1, VectorCodec.IdBytesMax, $"{what} length");
            return Take(byteCount);
        }

        /// <summary>Like <see cref="String"/>, but null when the text equals <paramref name="same"/> (a key equal to its id takes nothing).</summary>
        internal string? StringUnlessSame(string what, ReadOnlySpan<byte> same)
        {
            // A collection used directly (not through the database) may hold an empty key.
            int byteCount = Int32(0, Math.Max(VectorCodec.IdBytesMax, Documents.DocumentLimits.KeyBytesMax), $"{what} length");
            ReadOnlySpan<byte> bytes = Take(byteCount);
            return bytes.SequenceEqual(same) ? null : Encoding.UTF8.GetString(bytes);
        }

        internal void Copy(Span<byte> destination)
        {
            // Large arrays (codes) are copied in pieces of at most 1 GiB: spans are int-indexed.
            while (destination.Length > 0)
            {
                int piece = Math.Min(destination.Length, 1 << 30);
                Take(piece).CopyTo(destination);
                destination = destination[piece..];
            }
        }

        internal readonly long Remaining => length - _position;

        internal readonly void ExpectEnd()
        {
            if (_position != length)
            {
                throw Corrupt($"{length - _position} bytes follow the last tombstone");
            }
        }

        internal readonly EdgeCorruptionException Corrupt(string message) =>
            VectorCollection.Corrupt(path, IndexHeaderBytes + _position, message);

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > length - _position)
            {
                throw Corrupt($"needs {count} more bytes but the payload ends");
            }

            var span = new ReadOnlySpan<byte>(start + _position, count);
            _position += count;
            return span;
        }
    }
}
