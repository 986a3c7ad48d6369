namespace CortexEdge.Core;

/// <summary>
/// Error codes of the storage engine, grouped by concept in ranges of 100 so each folder adds its
/// own codes without renumbering others. Values are stable: they appear in logs and the local API.
/// </summary>
public enum EdgeErrorCode
{
    /// <summary>No specific code.</summary>
    Unknown = 0,

    // 100-199 Wal/
    /// <summary>A WAL record or segment failed its checks in the middle of the log.</summary>
    WalCorrupt = 100,

    /// <summary>An append would take the WAL past its size quota; free space by checkpointing.</summary>
    WalQuotaExceeded = 101,

    /// <summary>A record is larger than a WAL segment can hold.</summary>
    WalRecordTooLarge = 102,

    /// <summary>A WAL flush failed; the log refuses writes until it is reopened and recovered.</summary>
    WalFaulted = 103,

    /// <summary>A requested WAL position was already trimmed (deleted after a checkpoint).</summary>
    WalPositionTrimmed = 104,

    /// <summary>The file system has no space left for a new WAL segment.</summary>
    DiskFull = 105,

    /// <summary>A file operation of the WAL failed (EIO, short write, failed sync).</summary>
    WalIoError = 106,

    // 200-299 State/ and the database front door
    /// <summary>The database directory is opened by another process.</summary>
    DatabaseLocked = 200,

    /// <summary>
    /// The database stopped taking writes after a failed flush or another I/O fault; the writes the
    /// flush covered were not acknowledged. Reopen the database to recover.
    /// </summary>
    DatabaseFaulted = 201,

    /// <summary>A document operation in the WAL or the state store could not be decoded.</summary>
    DocumentMalformed = 202,

    /// <summary>A caller passed a document that is not a JSON object, or JSON that does not parse.</summary>
    DocumentInvalid = 203,

    /// <summary>A collection name, document key or field name is empty, too long or not valid UTF-16.</summary>
    DocumentKeyInvalid = 204,

    /// <summary>An encoded document operation exceeds the size limit.</summary>
    DocumentTooLarge = 205,

    /// <summary>The SQLite state disagrees with the WAL (for example, a checkpoint beyond the log's end).</summary>
    StateCorrupt = 206,

    /// <summary>Two state modules claim the same WAL record kind, or a record kind has no module.</summary>
    StateModuleConflict = 207,

    /// <summary>A filter or query argument is invalid (unknown operator, field path, value type).</summary>
    QueryInvalid = 208,

    /// <summary>This database does not take writes: it is a read replica of a leader, or a leader fenced by a newer epoch (the message names the leader).</summary>
    WritesFenced = 209,

    /// <summary>A replicated record or snapshot could not be applied verbatim (wrong LSN, bad CRC, chain break).</summary>
    ReplicationApplyRejected = 210,

    // 300-399 Clocks/
    /// <summary>A remote timestamp is further ahead of local time than the allowed skew.</summary>
    ClockSkew = 300,

    /// <summary>An encoded hybrid logical clock timestamp could not be decoded.</summary>
    HlcMalformed = 301,

    /// <summary>An encoded version vector could not be decoded.</summary>
    VersionVectorMalformed = 302,

    // 400-499 Crdt/
    /// <summary>A CRDT encoding could not be decoded.</summary>
    CrdtMalformed = 400,

    /// <summary>A counter increment would overflow the 64-bit per-replica total.</summary>
    CrdtCounterOverflow = 401,

    /// <summary>A last-writer-wins write carried a timestamp not after the one it overwrites (the clock went backwards).</summary>
    CrdtTimestampNotAfter = 402,

    /// <summary>A document field was used as a CRDT type other than the one its collection declares.</summary>
    CrdtFieldTypeMismatch = 403,

    // 500-599 TimeSeries/
    /// <summary>A time-series chunk could not be decoded.</summary>
    ChunkMalformed = 500,

    /// <summary>A reading's timestamp is outside the accepted range.</summary>
    TimeSeriesTimestampOutOfRange = 501,

    /// <summary>A series name is empty, too long, or holds control characters.</summary>
    TimeSeriesNameInvalid = 502,

    /// <summary>A time-series WAL record could not be decoded.</summary>
    TimeSeriesBatchMalformed = 503,

    /// <summary>A batch holds more readings than one WAL record may carry.</summary>
    TimeSeriesBatchTooLarge = 504,

    /// <summary>A range or bucket width is invalid (empty range, width not positive).</summary>
    TimeSeriesQueryInvalid = 505,

    // 600-699 Vectors/
    /// <summary>A vector was rejected (NaN, infinity or wrong dimension).</summary>
    VectorInvalid = 600,

    /// <summary>No vector with the given id exists in the collection.</summary>
    VectorNotFound = 601,

    /// <summary>A vector collection's memory-mapped file failed its header or checksum checks.</summary>
    VectorFileCorrupt = 602,

    /// <summary>A vector collection's file could not be grown or written (for example no space left).</summary>
    VectorFileIoError = 603,

    /// <summary>No vector collection with the given name exists.</summary>
    VectorCollectionNotFound = 604,

    /// <summary>A vector collection with the given name exists with a different dimension or metric.</summary>
    VectorCollectionMismatch = 605,

    /// <summary>A persisted vector op (WAL record body or SQLite row) could not be decoded.</summary>
    VectorRecordMalformed = 606,

    // 700-799 Platform/, Compression/
    /// <summary>Compressed data could not be decoded.</summary>
    CompressionMalformed = 700,
}
