using System.Collections.Concurrent;
using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The leader's side of <c>sync verify</c> over MQTT: answers anti-entropy requests arriving on
/// ce/{fleet}/verify/{node} on ce/{fleet}/verified/{node}, from the leader's own state of the
/// collection named. A fresh exchange (a root request) rebuilds the digest, so every verify sees
/// the current state. Malformed requests and unknown collections are counted and not answered
/// (the node times out and reports it).
/// </summary>
/// <remarks>Thread-safe per node: one exchange per node and collection at a time.</remarks>
public sealed class MqttAntiEntropyResponder
{
    private readonly MqttClient _client;
    private readonly Func<string, IAntiEntropySource?> _sources;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<(string Node, string Collection), AntiEntropyResponder> _sessions = new();
    private long _refusedCount;
    private long _answeredCount;

    /// <summary>Creates a responder publishing through <paramref name="client"/> (not owned).</summary>
    /// <param name="client">The leader's connection.</param>
    /// <param name="fleet">The fleet served.</param>
    /// <param name="sources">The leader's state of a collection, or null for a collection it does not verify.</param>
    public MqttAntiEntropyResponder(MqttClient client, string fleet, Func<string, IAntiEntropySource?> sources)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(fleet);
        ArgumentNullException.ThrowIfNull(sources);
        _client = client;
        _sources = sources;
        Fleet = fleet;
        _prefix = $"ce/{fleet}/verify/";
    }

    /// <summary>The fleet served.</summary>
    public string Fleet { get; }

    /// <summary>The filter the leader subscribes to.</summary>
    public string TopicFilter => _prefix + "+";

    /// <summary>Requests refused (malformed, unknown collection, or not a request).</summary>
    public long RefusedCount => Interlocked.Read(ref _refusedCount);

    /// <summary>Requests answered.</summary>
    public long AnsweredCount => Interlocked.Read(ref _answeredCount);

    /// <summary>ce/{fleet}/verify/{node}: node -> leader.</summary>
    public static string RequestTopic(string fleet, string node) => $"ce/{fleet}/verify/{node}";

    /// <summary>ce/{fleet}/verified/{node}: leader -> node.</summary>
    public static string ReplyTopic(string fleet, string node) => $"ce/{fleet}/verified/{node}";

    /// <summary>Answers <paramref name="message"/> if it is a verify request of this fleet; returns false for other messages.</summary>
    public async ValueTask<bool> TryHandleAsync(MqttMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!message.Topic.StartsWith(_prefix, StringComparison.Ordinal) || message.Topic.IndexOf('/', _prefix.Length) >= 0 || message.Topic.Length == _prefix.Length)
        {
            return false;
        }

        string node = message.Topic[_prefix.Length..];
        AntiEntropyEnvelope request;
        AntiEntropyMessage reply;
        try
        {
            request = AntiEntropyEnvelope.Decode(message.Payload.Span);
            IAntiEntropySource? source = _sources(request.Collection);
            if (source is null)
            {
                Interlocked.Increment(ref _refusedCount);
                return true;
            }

            var key = (node, request.Collection);
            bool fresh = request.Message.Kind == AntiEntropyMessageKind.DigestRequest && request.Message.Level == 0;
            AntiEntropyResponder responder = fresh
                ? _sessions[key] = new AntiEntropyResponder(source)
                : _sessions.GetOrAdd(key, _ => new AntiEntropyResponder(source));
            reply = responder.Answer(request.Message);
        }
        catch (FleetException)
        {
            Interlocked.Increment(ref _refusedCount);
            return true;
        }

        byte[] payload = new AntiEntropyEnvelope(request.RequestId, request.Collection, reply).Encode();
        // Counted before the publish: the node may read the reply before our PUBACK arrives, and must then already see it counted.
        Interlocked.Increment(ref _answeredCount);
        await _client.PublishAsync(ReplyTopic(Fleet, node), payload, MqttQualityOfService.AtLeastOnce, retain: false, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Subscribes the client given at construction to <see cref="TopicFilter"/> and answers until cancelled (a connection dedicated to verify).</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        await _client.SubscribeAsync(TopicFilter, MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
        await foreach (MqttMessage message in _client.Messages.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await TryHandleAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }
}
