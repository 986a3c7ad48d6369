using CortexEdge.Core.State;
using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core;

/// <summary>
/// What leader -> read-replica replication needs from the database: applying the leader's records
/// verbatim, refusing local writes on a replica (or a fenced leader), and whole-state snapshots.
/// </summary>
public sealed partial class EdgeDatabase
{
    private const string SnapshotHoldName = "replication-snapshot";
    private string? _writeFence; // reason writes are refused; read with Volatile.Read

    /// <summary>Why local writes are refused (null when this database takes writes).</summary>
    public string? WriteFence => Volatile.Read(ref _writeFence);

    /// <summary>
    /// Refuses (a non-null <paramref name="reason"/>, which should name the leader) or allows (null)
    /// local writes: puts, patches, deletes and <see cref="ApplyRemoteAsync"/> fail with
    /// <see cref="EdgeErrorCode.WritesFenced"/> while set. Reads are unaffected. Thread-safe.
    /// </summary>
    public void SetWriteFence(string? reason) => Volatile.Write(ref _writeFence, reason);

    private void ThrowIfWritesFenced()
    {
        if (Volatile.Read(ref _writeFence) is { } reason)
        {
            throw new EdgeException(EdgeErrorCode.WritesFenced, $"The database in '{Directory}' does not take writes: {reason}");
        }
    }

    /// <summary>
    /// Appends one record of the leader's log verbatim (same bytes, same LSN, which must be
    /// <see cref="WriteAheadLog.LastLsn"/> + 1) and applies it to the state, under the write lock, so
    /// modules see records in LSN order and a read sees each record wholly or not at all. Works while
    /// <see cref="WriteFence"/> is set (that fence is for local writes).
    /// </summary>
    /// <returns>The appended record's fields.</returns>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.ReplicationApplyRejected"/> (invalid record, wrong LSN),
    /// <see cref="EdgeErrorCode.DatabaseFaulted"/>, WAL errors, <see cref="EdgeErrorCode.StateModuleConflict"/> (unknown kind: nothing is appended).</exception>
    public WalRecordInfo AppendReplicated(ReadOnlySpan<byte> encoded)
    {
        ThrowIfDisposed();
        WalRecordInfo record;
        lock (_writeLock)
        {
            if (Volatile.Read(ref _fault) is { } fault)
            {
                throw new EdgeException(EdgeErrorCode.DatabaseFaulted, fault.Message, fault);
            }

            if (!WriteAheadLog.TryDecodeRecord(encoded, _wal.LastLsn + 1, out WalRecordInfo peek, out string problem))
            {
                throw new EdgeException(EdgeErrorCode.ReplicationApplyRejected, $"refusing replicated record for '{Directory}': {problem}");
            }

            IStateModule? module = null;
            if (peek.Kind != WalRecordKind.Checkpoint)
            {
                module = ModuleFor(_modulesByKind, peek.Kind, peek.Lsn);
            }

            try
            {
                record = _wal.AppendEncoded(encoded);
            }
            catch (EdgeException exception) when (exception.Code is EdgeErrorCode.WalFaulted)
            {
                throw Fault(exception);
            }

            if (module is not null)
            {
                ReadOnlySpan<byte> payload = encoded.Slice(WalRecordInfo.PayloadOffset, record.PayloadLength);
                StateRecord stateRecord = ToStateRecord(record.Lsn, record.Kind, payload);
                OperationHeader header = stateRecord.Header;
                _clock.AdvanceTo(header.Timestamp.Time);
                _versions.AdvanceTo(header.OriginReplicaId, header.OriginSequence);
                if (header.OriginReplicaId == ReplicaId && header.OriginSequence > _originSequence)
                {
                    _originSequence = header.OriginSequence;
                }

                try
                {
                    module.Apply(stateRecord);
                }
                catch (Exception exception)
                {
                    throw Fault(new EdgeException(EdgeErrorCode.StateCorrupt, $"State module '{module.Name}' failed to apply replicated WAL LSN {record.Lsn}: {exception.Message}", exception));
                }
            }
        }

        _checkpointer.Nudge(record.Lsn);
        return record;
    }

    /// <summary>The CRC of the record at <paramref name="lsn"/>, when it is still in the log.</summary>
    /// <returns>false when <paramref name="lsn"/> is trimmed or not yet written.</returns>
    public bool TryGetRecordCrc(long lsn, out uint crc)
    {
        crc = 0;
        if (lsn == 0)
        {
            return true;
        }

        if (lsn < _wal.FirstLsn || lsn > _wal.LastLsn)
        {
            return TryGetSnapshotAnchor(lsn, out crc);
        }

        try
        {
            using WalReader reader = _wal.OpenReader(lsn);
            if (reader.TryRead(out WalRecord record) && record.Lsn == lsn)
            {
                crc = record.Crc;
                return true;
            }
        }
        catch (EdgeException exception) when (exception.Code is EdgeErrorCode.WalPositionTrimmed)
        {
            return false;
        }

        return false;
    }

    /// <summary>
    /// Writes a consistent copy of the checkpointed state to <paramref name="destinationPath"/>
    /// (SQLite <c>VACUUM INTO</c>, one read transaction; the parent folder is created) after a checkpoint, and returns the LSN it
    /// covers with that record's CRC (the chain anchor a replica verifies the next batch against).
    /// </summary>
    /// <exception cref="EdgeException">Checkpoint failure (<see cref="EdgeErrorCode.DatabaseFaulted"/>).</exception>
    /// <exception cref="IOException"><paramref name="destinationPath"/> exists.</exception>
    public async Task<DatabaseSnapshot> CreateSnapshotAsync(string destinationPath, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (File.Exists(destinationPath))
        {
            throw new IOException($"snapshot destination '{destinationPath}' exists");
        }

        if (Path.GetDirectoryName(Path.GetFullPath(destinationPath)) is { } parent)
        {
            System.IO.Directory.CreateDirectory(parent);
        }

        await CheckpointAsync(cancellationToken).ConfigureAwait(false);
        // Keep the record at the checkpoint (the anchor) on disk until its CRC is read.
        _wal.SetRetentionHold(SnapshotHoldName, Math.Max(_wal.FirstLsn, _wal.CheckpointLsn));
        try
        {
            // Its own connection: VACUUM INTO writes the target file, which the pooled read-only readers may not.
            using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _store.FilePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString()))
            using (SqliteCommand vacuum = connection.CreateCommand())
            {
                connection.Open();
                vacuum.CommandText = "VACUUM INTO $path;";
                vacuum.Parameters.AddWithValue("$path", destinationPath);
                vacuum.ExecuteNonQuery();
            }

            long lsn = ReadSnapshotLsn(destinationPath);
            uint crc = 0;
            bool anchored = lsn == 0 || TryGetRecordCrc(lsn, out crc);
            return DatabaseSnapshot.Create(destinationPath, lsn, crc, anchored);
        }
        finally
        {
            _wal.ReleaseRetentionHold(SnapshotHoldName);
        }
    }

    private static long ReadSnapshotLsn(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM ce_meta WHERE name = 'checkpoint_lsn';";
        return command.ExecuteScalar() is long lsn
            ? lsn
            : throw new EdgeCorruptionException(EdgeErrorCode.StateCorrupt, $"{path} table ce_meta", "snapshot copy has no checkpoint LSN");
    }

    /// <summary>
    /// Replaces the (closed) database in <paramref name="directory"/> with a snapshot: a new directory
    /// is staged beside it (the snapshot's state file and an empty WAL starting at
    /// <paramref name="snapshotLsn"/> + 1 in <paramref name="logEpoch"/>), marked complete, and swapped
    /// in by renames. A crash at any point leaves either the old database or the new one, never a mix:
    /// <see cref="RecoverSnapshotInstall"/> (called here first, and by callers before opening) finishes or discards it.
    /// </summary>
    /// <param name="directory">The database directory (must not be open).</param>
    /// <param name="snapshotStateFile">A verified snapshot state file; it is moved, not copied.</param>
    /// <param name="snapshotLsn">The LSN the snapshot covers.</param>
    /// <param name="anchorCrc">CRC of the leader's record at <paramref name="snapshotLsn"/>, kept so <see cref="TryGetRecordCrc"/> can answer for it.</param>
    /// <param name="logEpoch">The leader's log epoch.</param>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.DatabaseLocked"/> when the database is open.</exception>
    /// <exception cref="EdgeCorruptionException">The snapshot's checkpoint LSN is not <paramref name="snapshotLsn"/>.</exception>
    public static void InstallSnapshot(string directory, string snapshotStateFile, long snapshotLsn, uint anchorCrc, ulong logEpoch)
    {
        string fullPath = Path.GetFullPath(directory);
        RecoverSnapshotInstall(fullPath);
        long copyLsn = ReadSnapshotLsn(snapshotStateFile);
        if (copyLsn != snapshotLsn)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.StateCorrupt, snapshotStateFile, $"snapshot covers LSN {copyLsn}, not the announced LSN {snapshotLsn}");
        }

        string staging = fullPath + ".install";
        string old = fullPath + ".old";
        if (System.IO.Directory.Exists(staging))
        {
            System.IO.Directory.Delete(staging, recursive: true);
        }

        System.IO.Directory.CreateDirectory(staging);
        File.Move(snapshotStateFile, Path.Combine(staging, StateStore.FileName));
        WriteSnapshotAnchor(Path.Combine(staging, StateStore.FileName), snapshotLsn, anchorCrc);
        WriteAheadLog.CreateEmpty(Path.Combine(staging, WalDirectoryName), new WalOptions(), snapshotLsn + 1, logEpoch);
        using (FileStream marker = new(Path.Combine(staging, InstallCompleteMarker), FileMode.CreateNew, FileAccess.Write))
        {
            marker.Flush(flushToDisk: true);
        }

        if (System.IO.Directory.Exists(fullPath))
        {
            using (DirectoryLock.Acquire(fullPath))
            {
                // Only checks that nobody has it open; released before the rename.
            }

            System.IO.Directory.Move(fullPath, old);
        }

        System.IO.Directory.Move(staging, fullPath);
        File.Delete(Path.Combine(fullPath, InstallCompleteMarker));
        if (System.IO.Directory.Exists(old))
        {
            System.IO.Directory.Delete(old, recursive: true);
        }
    }

    private static void WriteSnapshotAnchor(string stateFile, long lsn, uint crc)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = stateFile, Pooling = false }.ToString());
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "INSERT INTO ce_meta(name, value) VALUES('snapshot_anchor_lsn', $lsn), ('snapshot_anchor_crc', $crc) ON CONFLICT(name) DO UPDATE SET value = excluded.value;";
        command.Parameters.AddWithValue("$lsn", lsn);
        command.Parameters.AddWithValue("$crc", (long)crc);
        command.ExecuteNonQuery();
    }

    private bool TryGetSnapshotAnchor(long lsn, out uint crc)
    {
        crc = 0;
        using StateReadConnection reader = _store.RentReader();
        using SqliteCommand command = reader.Connection.CreateCommand();
        command.CommandText = "SELECT (SELECT value FROM ce_meta WHERE name = 'snapshot_anchor_lsn'), (SELECT value FROM ce_meta WHERE name = 'snapshot_anchor_crc');";
        using SqliteDataReader row = command.ExecuteReader();
        if (row.Read() && !row.IsDBNull(0) && row.GetInt64(0) == lsn)
        {
            crc = (uint)row.GetInt64(1);
            return true;
        }

        return false;
    }

    private const string InstallCompleteMarker = "INSTALL-COMPLETE";

    /// <summary>
    /// Finishes or discards a snapshot install a crash interrupted (see <see cref="InstallSnapshot"/>):
    /// a complete staged directory replaces a missing database; an incomplete one is deleted; a left-over
    /// old directory is deleted once the new one is in place. Safe to call any time the database is closed.
    /// </summary>
    /// <returns>true when something was finished or cleaned up.</returns>
    public static bool RecoverSnapshotInstall(string directory)
    {
        string fullPath = Path.GetFullPath(directory);
        string staging = fullPath + ".install";
        string old = fullPath + ".old";
        bool acted = false;
        if (System.IO.Directory.Exists(staging))
        {
            bool complete = File.Exists(Path.Combine(staging, InstallCompleteMarker));
            if (complete && !System.IO.Directory.Exists(fullPath))
            {
                System.IO.Directory.Move(staging, fullPath);
            }
            else
            {
                System.IO.Directory.Delete(staging, recursive: true);
            }

            acted = true;
        }

        if (File.Exists(Path.Combine(fullPath, InstallCompleteMarker)))
        {
            File.Delete(Path.Combine(fullPath, InstallCompleteMarker));
        }

        if (System.IO.Directory.Exists(old) && System.IO.Directory.Exists(fullPath))
        {
            System.IO.Directory.Delete(old, recursive: true);
            acted = true;
        }

        return acted;
    }
}
