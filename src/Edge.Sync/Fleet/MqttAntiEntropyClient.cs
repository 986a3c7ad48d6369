using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The node's side of <c>sync verify</c> over MQTT: runs an <see cref="AntiEntropySession"/>
/// against the leader's <see cref="MqttAntiEntropyResponder"/>, one request in flight, each reply
/// matched by request id, and fetches the leader's documents for repair. Uses a connection
/// dedicated to verify (it reads every message).
/// </summary>
public static class MqttAntiEntropyClient
{
    /// <summary>Most keys asked for in one document request (keeps replies far below broker packet limits for small documents).</summary>
    public const int DocumentBatchKeysMax = 64;

    /// <summary>
    /// Compares <paramref name="local"/> (this node's digest of <paramref name="collection"/>) with
    /// the leader's state.
    /// </summary>
    /// <exception cref="TimeoutException">No reply within <paramref name="replyTimeout"/>.</exception>
    /// <exception cref="FleetException">The leader's reply does not decode or does not answer the request.</exception>
    public static async Task<AntiEntropyReport> VerifyAsync(MqttClient client, string fleet, string node, string collection, MerkleDigest local,
        TimeSpan replyTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(local);
        await client.SubscribeAsync(MqttAntiEntropyResponder.ReplyTopic(fleet, node), MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
        return await AntiEntropyExchange.RunAsync(local, async (request, token) =>
        {
            AntiEntropyMessage reply = await RequestAsync(client, fleet, node, collection, AntiEntropyCodec.Decode(request.Span), replyTimeout, token).ConfigureAwait(false);
            // The session decodes again; re-encoding keeps the byte count the wire's.
            return AntiEntropyCodec.Encode(reply);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The leader's state of <paramref name="keys"/> in <paramref name="collection"/> (for repair), in batches of <see cref="DocumentBatchKeysMax"/>.</summary>
    /// <exception cref="TimeoutException">No reply within <paramref name="replyTimeout"/>.</exception>
    /// <exception cref="FleetException">The leader's reply does not decode or does not answer the request.</exception>
    public static async Task<IReadOnlyList<AntiEntropyDocument>> FetchDocumentsAsync(MqttClient client, string fleet, string node, string collection,
        IReadOnlyList<string> keys, TimeSpan replyTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(keys);
        await client.SubscribeAsync(MqttAntiEntropyResponder.ReplyTopic(fleet, node), MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
        var documents = new List<AntiEntropyDocument>(keys.Count);
        for (int start = 0; start < keys.Count; start += DocumentBatchKeysMax)
        {
            string[] batch = keys.Skip(start).Take(DocumentBatchKeysMax).ToArray();
            AntiEntropyMessage reply = await RequestAsync(client, fleet, node, collection, AntiEntropyMessage.DocumentRequest(1, batch), replyTimeout, cancellationToken).ConfigureAwait(false);
            if (reply.Kind != AntiEntropyMessageKind.DocumentReply || reply.Documents.Count != batch.Length
                || !reply.Documents.Select(d => d.Key).SequenceEqual(batch, StringComparer.Ordinal))
            {
                throw new FleetException(FleetErrorCode.AntiEntropyUnexpectedReply, $"sync verify: the leader's document reply for collection '{collection}' does not answer the keys asked for.");
            }

            documents.AddRange(reply.Documents);
        }

        return documents;
    }

    private static async Task<AntiEntropyMessage> RequestAsync(MqttClient client, string fleet, string node, string collection, AntiEntropyMessage request,
        TimeSpan replyTimeout, CancellationToken cancellationToken)
    {
        string replyTopic = MqttAntiEntropyResponder.ReplyTopic(fleet, node);
        ulong requestId = (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        await client.PublishAsync(MqttAntiEntropyResponder.RequestTopic(fleet, node), new AntiEntropyEnvelope(requestId, collection, request).Encode(),
            MqttQualityOfService.AtLeastOnce, retain: false, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(replyTimeout);
        try
        {
            while (true)
            {
                MqttMessage reply = await client.Messages.ReadAsync(timeout.Token).ConfigureAwait(false);
                if (reply.Topic != replyTopic)
                {
                    continue;
                }

                AntiEntropyEnvelope envelope = AntiEntropyEnvelope.Decode(reply.Payload.Span);
                if (envelope.RequestId == requestId && envelope.Collection == collection)
                {
                    return envelope.Message;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"sync verify: no anti-entropy reply for collection '{collection}' from the leader within {replyTimeout.TotalSeconds:0.#} s (request {requestId}).");
        }
    }
}
