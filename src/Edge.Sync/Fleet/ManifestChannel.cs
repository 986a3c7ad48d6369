using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// How the manifest travels: the leader publishes it retained (QoS 1) on ce/{fleet}/manifest, so
/// every node gets the newest one on subscribe and each change as it happens; a node feeds what
/// arrives to its <see cref="ManifestFilter"/>, which puts it in force for the next op.
/// </summary>
public static class ManifestChannel
{
    /// <summary>ce/{fleet}/manifest.</summary>
    public static string TopicFor(string fleet)
    {
        ArgumentException.ThrowIfNullOrEmpty(fleet);
        return $"ce/{fleet}/manifest";
    }

    /// <summary>Leader: publishes <paramref name="manifest"/> retained at QoS 1.</summary>
    public static ValueTask PublishAsync(MqttClient client, string fleet, ReplicationManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.PublishAsync(TopicFor(fleet), ReplicationManifestCodec.Encode(manifest), MqttQualityOfService.AtLeastOnce, retain: true, cancellationToken);
    }

    /// <summary>
    /// Node: if <paramref name="message"/> is this fleet's manifest, decodes it and offers it to
    /// <paramref name="filter"/>; returns true when a newer manifest was put in force. Other
    /// messages return false untouched.
    /// </summary>
    /// <exception cref="FleetException">The manifest does not decode or is invalid; the filter keeps the manifest it had.</exception>
    public static bool TryApply(MqttMessage message, string fleet, ManifestFilter filter)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(filter);
        if (!string.Equals(message.Topic, TopicFor(fleet), StringComparison.Ordinal))
        {
            return false;
        }

        return filter.Update(ReplicationManifestCodec.Decode(message.Payload.Span));
    }

    /// <summary>
    /// Node: subscribes <paramref name="client"/> to the manifest and waits up to
    /// <paramref name="wait"/> for the retained one (it arrives at once when the leader published
    /// one); offers it to <paramref name="filter"/>. Returns false when none arrived. Other messages
    /// read meanwhile are dropped (use a connection dedicated to this).
    /// </summary>
    /// <exception cref="FleetException">The retained manifest does not decode or is invalid.</exception>
    public static async Task<bool> ReadRetainedAsync(MqttClient client, string fleet, ManifestFilter filter, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(filter);
        await client.SubscribeAsync(TopicFor(fleet), MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
        using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        window.CancelAfter(wait);
        try
        {
            while (true)
            {
                MqttMessage message = await client.Messages.ReadAsync(window.Token).ConfigureAwait(false);
                if (string.Equals(message.Topic, TopicFor(fleet), StringComparison.Ordinal))
                {
                    filter.Update(ReplicationManifestCodec.Decode(message.Payload.Span));
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
