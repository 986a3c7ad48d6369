using CortexEdge.Core;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;

namespace CortexEdge.Sync.Replication;

/// <summary>
/// A read replica's <see cref="EdgeDatabase"/> as the replication protocol's store: records are
/// appended verbatim with the leader's LSNs (<see cref="EdgeDatabase.AppendReplicated"/>), local writes
/// are fenced with an error naming the leader, snapshots are staged beside the database directory and
/// installed by swapping directories. Installing reopens the database: read <see cref="Database"/> again.
/// One protocol thread at a time; <see cref="Database"/> may be read from any thread.
/// </summary>
public sealed class EdgeDatabaseReplicaStore : IReplicaStore, IDisposable
{
    private const string ChainHoldName = "replica-chain";
    private const int ChainHoldEveryRecords = 1024;
    private readonly string _directory;
    private readonly EdgeDatabaseOptions _options;
    private readonly string _fenceReason;
    private EdgeDatabase _database;
    private SnapshotStagingFile? _staging;
    private ulong _stagingId;
    private long _cachedLsn = -1;
    private uint _cachedCrc;
    private long _appendsSinceHold;

    /// <summary>Opens (or creates) the replica database in <paramref name="directory"/>, finishing an interrupted snapshot install first.</summary>
    /// <param name="directory">Replica database directory.</param>
    /// <param name="leaderDescription">Names the leader in the error local writes get (e.g. "fleet f1 leader via broker h:1883").</param>
    /// <param name="options">Database options.</param>
    public EdgeDatabaseReplicaStore(string directory, string leaderDescription, EdgeDatabaseOptions? options = null)
    {
        _directory = Path.GetFullPath(directory);
        _options = options ?? new EdgeDatabaseOptions();
        _fenceReason = $"it is a read replica; write to the leader ({leaderDescription})";
        EdgeDatabase.RecoverSnapshotInstall(_directory);
        _database = Open();
        if (SnapshotStagingFile.TryFindExisting(_directory, out ulong id))
        {
            _staging = SnapshotStagingFile.OpenOrCreate(_directory, id);
            _stagingId = id;
        }
    }

    /// <summary>The replica database (changes after a snapshot install).</summary>
    public EdgeDatabase Database => Volatile.Read(ref _database);

    /// <inheritdoc/>
    public ulong Epoch => _database.Wal.LogEpoch;

    /// <inheritdoc/>
    public long LastLsn => _database.Wal.LastLsn;

    /// <inheritdoc/>
    public long DurableLsn => _database.Wal.DurableLsn;

    /// <inheritdoc/>
    public ulong StagedSnapshotId => _stagingId;

    /// <inheritdoc/>
    public long StagedSnapshotBytes => _staging?.LengthBytes ?? 0;

    /// <inheritdoc/>
    public uint StagedSnapshotChecksum => _staging?.Checksum ?? 0;

    private EdgeDatabase Open()
    {
        EdgeDatabase database = EdgeDatabase.Open(_directory, _options);
        database.SetWriteFence(_fenceReason);
        database.Wal.SetRetentionHold(ChainHoldName, Math.Max(1, database.Wal.LastLsn));
        return database;
    }

    /// <inheritdoc/>
    public bool TryGetCrc(long lsn, out uint crc)
    {
        if (lsn == _cachedLsn)
        {
            crc = _cachedCrc;
            return true;
        }

        return _database.TryGetRecordCrc(lsn, out crc);
    }

    /// <inheritdoc/>
    public void Append(ReadOnlySpan<byte> encodedRecord)
    {
        WalRecordInfo record = _database.AppendReplicated(encodedRecord);
        _cachedLsn = record.Lsn;
        _cachedCrc = record.Crc;
        if (++_appendsSinceHold >= ChainHoldEveryRecords)
        {
            // Keep the replica's newest records on disk: the next batch is verified against them.
            _database.Wal.SetRetentionHold(ChainHoldName, record.Lsn);
            _appendsSinceHold = 0;
        }
    }

    /// <inheritdoc/>
    public void AdvanceEpoch(ulong epoch) => _database.Wal.AdvanceEpoch(epoch);

    /// <inheritdoc/>
    public bool TryStageSnapshotChunk(ulong snapshotId, long offset, ReadOnlySpan<byte> data)
    {
        if (snapshotId != _stagingId)
        {
            if (offset != 0)
            {
                return false;
            }

            _staging?.Discard();
            _staging = SnapshotStagingFile.OpenOrCreate(_directory, snapshotId);
            _stagingId = snapshotId;
            if (_staging.LengthBytes != 0)
            {
                _staging.Discard();
                _staging = SnapshotStagingFile.OpenOrCreate(_directory, snapshotId);
            }
        }

        return _staging!.TryAppend(offset, data);
    }

    /// <inheritdoc/>
    public void DiscardStagedSnapshot()
    {
        _staging?.Discard();
        _staging = null;
        _stagingId = 0;
    }

    /// <inheritdoc/>
    public void InstallStagedSnapshot(long snapshotLsn, uint anchorCrc, ulong epoch)
    {
        SnapshotStagingFile staging = _staging ?? throw new InvalidOperationException("no snapshot is staged");
        string path = staging.Path;
        staging.Dispose();
        _staging = null;
        _stagingId = 0;
        _database.Dispose();
        EdgeDatabase.InstallSnapshot(_directory, path, snapshotLsn, anchorCrc, epoch);
        _cachedLsn = snapshotLsn;
        _cachedCrc = anchorCrc;
        _appendsSinceHold = 0;
        Volatile.Write(ref _database, Open());
    }

    /// <summary>Closes the database (a staged snapshot stays on disk for a resume).</summary>
    public void Dispose()
    {
        _staging?.Dispose();
        _database.Dispose();
    }
}
