using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The node's side of <c>sync verify</c> over MQTT: runs an <see cref="AntiEntropySession"/>
/// against the leader's <see cref="MqttAntiEntropyResponder"/>, one request in flight, each reply
/// matched by request id. Uses a connection dedicated to verify (it reads every message).
/// </summary>
public static class MqttAntiEntropyClient
{
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
        string replyTopic = MqttAntiEntropyResponder.ReplyTopic(fleet, node);
        string requestTopic = MqttAntiEntropyResponder.RequestTopic(fleet, node);
        await client.SubscribeAsync(replyTopic, MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
        ulong requestId = (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        return await AntiEntropyExchange.RunAsync(local, async (request, token) =>
        {
            requestId++;
            AntiEntropyMessage message = AntiEntropyCodec.Decode(request.Span);
            await client.PublishAsync(requestTopic, new AntiEntropyEnvelope(requestId, collection, message).Encode(), MqttQualityOfService.AtLeastOnce, retain: false, token).ConfigureAwait(false);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
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
                        // The session decodes again; re-encoding keeps the byte count the wire's.
                        return AntiEntropyCodec.Encode(envelope.Message);
                    }
                }
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                throw new TimeoutException($"sync verify: no anti-entropy reply for collection '{collection}' from the leader within {replyTimeout.TotalSeconds:0.#} s (request {requestId}).");
            }
        }, cancellationToken).ConfigureAwait(false);
    }
}
