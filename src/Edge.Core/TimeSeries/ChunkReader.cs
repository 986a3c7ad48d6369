namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Streams the readings of one chunk in timestamp order without buffers. The header and CRC are
/// checked when the reader is created; the payload is checked as it is read, and fully (length,
/// padding, last reading, statistics) when the last reading has been read. Allocates nothing.
/// </summary>
public ref struct ChunkReader
{
    private GorillaDecoder _decoder;
    private ReadingStatistics _statistics;
    private int _index;
    private readonly string _location;

    /// <summary>Opens a chunk for reading.</summary>
    /// <param name="chunk">The chunk bytes exactly.</param>
    /// <param name="location">Where the chunk came from, for error messages.</param>
    /// <exception cref="EdgeCorruptionException"><see cref="EdgeErrorCode.ChunkMalformed"/> when the header or CRC fails.</exception>
    public ChunkReader(ReadOnlySpan<byte> chunk, string location = "chunk")
    {
        Header = ChunkHeader.Read(chunk, location);
        _decoder = new GorillaDecoder(chunk[ChunkHeader.Size..], Header.FirstTimestamp, Header.FirstValue, location, Header.DecimalDigits, Header.DecimalDeltaOfDelta);
        _statistics = ReadingStatistics.Empty;
        _index = 0;
        _location = location;
    }

    /// <summary>The chunk's checked header.</summary>
    public ChunkHeader Header { get; }

    /// <summary>Reads the next reading.</summary>
    /// <returns>False once every reading has been read.</returns>
    /// <exception cref="EdgeCorruptionException"><see cref="EdgeErrorCode.ChunkMalformed"/> when the payload is damaged.</exception>
    public bool TryRead(out TimeSeriesReading reading)
    {
        if (_index >= Header.Count)
        {
            reading = default;
            return false;
        }

        long timestamp;
        double value;
        if (_index == 0)
        {
            timestamp = Header.FirstTimestamp;
            value = Header.FirstValue;
        }
        else
        {
            _decoder.ReadNext(out timestamp, out value);
        }

        _statistics.Add(timestamp, value);
        _index++;
        if (_index == Header.Count)
        {
            _decoder.EnsureComplete();
            ChunkCodec.CheckAgainstHeader(Header, _statistics, _location);
        }

        reading = new TimeSeriesReading(timestamp, value);
        return true;
    }
}
