using System.Buffers;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// Runs an <see cref="AntiEntropySession"/> over any request/reply transport of encoded bytes
/// (MQTT, an in-process peer) and counts the bytes each way.
/// </summary>
public static class AntiEntropyExchange
{
    /// <summary>
    /// Compares <paramref name="local"/> with the peer behind <paramref name="transport"/>, which
    /// sends one encoded request and returns the peer's encoded reply.
    /// </summary>
    /// <exception cref="FleetException">The peer's reply does not decode or does not answer the request.</exception>
    public static async ValueTask<AntiEntropyReport> RunAsync(MerkleDigest local,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<ReadOnlyMemory<byte>>> transport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var session = new AntiEntropySession(local);
        var buffer = new ArrayBufferWriter<byte>(256);
        long sent = 0;
        long received = 0;
        AntiEntropyMessage? request = session.Start();
        while (request is not null)
        {
            buffer.ResetWrittenCount();
            AntiEntropyCodec.Encode(request, buffer);
            sent += buffer.WrittenCount;
            ReadOnlyMemory<byte> reply = await transport(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            received += reply.Length;
            request = session.Receive(AntiEntropyCodec.Decode(reply.Span));
        }

        return new AntiEntropyReport(session.Result!, sent, received);
    }

    /// <summary>Compares two in-process replicas through the codec (what a wire would carry).</summary>
    public static AntiEntropyReport Compare(MerkleDigest local, AntiEntropyResponder peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ValueTask<AntiEntropyReport> run = RunAsync(local, (request, _) =>
            ValueTask.FromResult<ReadOnlyMemory<byte>>(AntiEntropyCodec.Encode(peer.Answer(AntiEntropyCodec.Decode(request.Span)))));
        return run.IsCompletedSuccessfully ? run.Result : run.AsTask().GetAwaiter().GetResult();
    }
}
