namespace CortexEdge.Core.Wal;

/// <summary>
/// What a read replica needs from the log: checking an encoded record, appending it verbatim with the
/// leader's LSN (so the replica's records are byte-identical to the leader's), the log epoch, and a
/// log that starts after a snapshot.
/// </summary>
public sealed partial class WriteAheadLog
{
    /// <summary>
    /// Checks the encoded record at the start of <paramref name="source"/>: header, kind, reserved bytes,
    /// length within <paramref name="source"/>, LSN equal to <paramref name="expectedLsn"/> (any positive
    /// LSN when 0) and CRC. Pure; never reads past <paramref name="source"/>.
    /// </summary>
    /// <returns>true and the record's fields when valid; false with <paramref name="problem"/> saying what is wrong.</returns>
    public static bool TryDecodeRecord(ReadOnlySpan<byte> source, long expectedLsn, out WalRecordInfo record, out string problem)
    {
        WalRecordStatus status = WalRecordFormat.Check(source, expectedLsn, out WalRecordHeader header);
        if (status != WalRecordStatus.Valid)
        {
            record = default;
            problem = status == WalRecordStatus.BadLsn && source.Length >= WalRecordFormat.HeaderBytes
                ? $"record carries LSN {BitConverterLsn(source)} where LSN {expectedLsn} was expected"
                : $"record at LSN {expectedLsn} is invalid: {status}";
            return false;
        }

        record = new WalRecordInfo(header.Lsn, header.Kind, header.Crc, header.PayloadLength, header.EncodedLength);
        problem = string.Empty;
        return true;
    }

    /// <summary>Bytes an encoded record with <paramref name="payloadLength"/> payload bytes takes (padding included).</summary>
    public static int EncodedRecordLength(int payloadLength) => checked((int)WalRecordFormat.EncodedLength(payloadLength));

    /// <summary>
    /// Encodes one record exactly as <see cref="Append"/> would store it (tools, tests and simulations
    /// that produce a log without files). Returns the record's CRC.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is None, <paramref name="lsn"/> is not positive, or <paramref name="destination"/> is shorter than <see cref="EncodedRecordLength"/>.</exception>
    public static uint EncodeRecord(Span<byte> destination, long lsn, WalRecordKind kind, ReadOnlySpan<byte> payload)
    {
        if (kind == WalRecordKind.None)
        {
            ThrowKindNone();
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(lsn, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, EncodedRecordLength(payload.Length), nameof(destination));
        return WalRecordFormat.Encode(destination, lsn, kind, payload);
    }

    private static long BitConverterLsn(ReadOnlySpan<byte> source) => System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(source[8..]);

    /// <summary>
    /// Appends one already-encoded record verbatim (a replica copying its leader's log). The record must
    /// be exactly one valid record whose LSN is <see cref="LastLsn"/> + 1; it is checked before and
    /// after the copy. Thread-safe (serialized with <see cref="Append"/>).
    /// </summary>
    /// <returns>The record's fields.</returns>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.ReplicationApplyRejected"/> when the record is invalid, not
    /// exactly one record long, or not the next LSN; otherwise the errors of <see cref="Append"/>.</exception>
    public WalRecordInfo AppendEncoded(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length > _recordBytesMax)
        {
            throw new EdgeException(EdgeErrorCode.WalRecordTooLarge, $"replicated WAL record of {encoded.Length} bytes does not fit a {_segmentBytes}-byte segment");
        }

        lock (_appendLock)
        {
            if (_fault is { } fault)
            {
                ThrowFaulted(fault);
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            long lsn = _lastLsn + 1;
            if (!TryDecodeRecord(encoded, lsn, out WalRecordInfo record, out string problem))
            {
                throw new EdgeException(EdgeErrorCode.ReplicationApplyRejected, $"refusing to append a replicated record to '{_directory}': {problem}");
            }

            if (record.EncodedLength != encoded.Length)
            {
                throw new EdgeException(EdgeErrorCode.ReplicationApplyRejected,
                    $"refusing to append a replicated record to '{_directory}': LSN {lsn} is {record.EncodedLength} bytes but {encoded.Length} were given");
            }

            WalSegment segment = _active;
            if (segment.RemainingBytes < encoded.Length)
            {
                segment = AddSegment();
            }

            segment.AppendEncoded(lsn, encoded);
            Volatile.Write(ref _lastLsn, lsn);
            return record;
        }
    }

    /// <summary>
    /// Moves the log to <paramref name="epoch"/>: the active segment is sealed and a new one, whose
    /// header carries the new epoch, starts at the next LSN (an empty active segment is replaced in
    /// place). Recovery reads the epoch back from the newest segment. Never moves back.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is below <see cref="LogEpoch"/>.</exception>
    /// <exception cref="EdgeException">The errors of a segment creation (quota, disk full, I/O).</exception>
    public void AdvanceEpoch(ulong epoch)
    {
        lock (_appendLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (epoch < LogEpoch)
            {
                throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"the log is at epoch {LogEpoch}; epochs never move back");
            }

            if (epoch == LogEpoch)
            {
                return;
            }

            if (_active.LastLsn < _active.FirstLsn && _segments.Count == 1)
            {
                // Nothing in the only segment: rewrite it with the new header (a fresh file renamed over it).
                WalSegment old = _active;
                var header = new WalSegmentHeader(_replicaId, epoch, old.FirstLsn, _segmentBytes);
                // A crash between delete and create leaves no segment: the epoch of an empty log is re-learned from the leader.
                _fileSystem.Delete(old.Path);
                old.Release();
                WalSegment replaced = WalSegment.Create(_fileSystem, _directory, header);
                _segments.Clear();
                _segments.Add(replaced);
                _active = replaced;
                LogEpoch = epoch;
                return;
            }

            LogEpoch = epoch;
            if (_active.LastLsn >= _active.FirstLsn)
            {
                AddSegment();
            }
            else
            {
                // An empty active segment after sealed ones: seal-and-add would reuse its name; rewrite it instead.
                WalSegment old = _active;
                var header = new WalSegmentHeader(_replicaId, epoch, old.FirstLsn, _segmentBytes);
                _fileSystem.Delete(old.Path);
                old.Release();
                _segments.RemoveAt(_segments.Count - 1);
                WalSegment replaced = WalSegment.Create(_fileSystem, _directory, header);
                _segments.Add(replaced);
                _active = replaced;
            }
        }
    }

    /// <summary>
    /// Creates an empty log in <paramref name="directory"/> whose first record will get LSN
    /// <paramref name="firstLsn"/> (a replica installing a snapshot taken at <paramref name="firstLsn"/> - 1).
    /// </summary>
    /// <exception cref="InvalidOperationException">The directory already holds segments.</exception>
    public static void CreateEmpty(string directory, WalOptions options, long firstLsn, ulong logEpoch)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(firstLsn, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(logEpoch, 1UL);
        options.Validate();
        IWalFileSystem fileSystem = options.FileSystem ?? LinuxWalFileSystem.Instance;
        fileSystem.CreateDirectory(directory);
        if (fileSystem.ListFiles(directory, WalSegment.FileSuffix).Count > 0)
        {
            throw new InvalidOperationException($"'{directory}' already holds WAL segments");
        }

        WalSegment created = WalSegment.Create(fileSystem, directory, new WalSegmentHeader(options.ReplicaId, logEpoch, firstLsn, options.SegmentBytes));
        created.Release();
    }
}
