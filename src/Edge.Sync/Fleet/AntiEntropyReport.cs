namespace CortexEdge.Sync.Fleet;

/// <summary>The outcome of one anti-entropy exchange with the bytes it cost.</summary>
/// <param name="Result">What differed.</param>
/// <param name="BytesSent">Encoded request bytes sent to the peer.</param>
/// <param name="BytesReceived">Encoded reply bytes received from the peer.</param>
public sealed record AntiEntropyReport(AntiEntropyResult Result, long BytesSent, long BytesReceived)
{
    /// <summary>Bytes both ways.</summary>
    public long BytesExchanged => BytesSent + BytesReceived;
}
