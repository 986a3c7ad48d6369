using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// Applies the current <see cref="ReplicationManifest"/> to outgoing document ops: drops ops of
/// collections that do not travel this way, strips local-only fields, and holds back collections
/// whose schema version this node does not understand yet. <see cref="Update"/> swaps the manifest
/// atomically; the next call sees it (no restart).
/// </summary>
/// <remarks>Thread-safe: the manifest is an immutable object behind a volatile reference.</remarks>
public sealed class ManifestFilter
{
    private readonly IReadOnlyDictionary<string, int>? _understoodSchemaVersions;
    private readonly ConcurrentDictionary<string, int> _heldBack = new(StringComparer.Ordinal);
    private ReplicationManifest _manifest;

    /// <summary>Creates a filter for <paramref name="role"/>.</summary>
    /// <param name="role">Which side this filter runs on.</param>
    /// <param name="manifest">The starting manifest.</param>
    /// <param name="understoodSchemaVersions">Per collection the newest schema version this build understands (nodes); null to understand every version (the leader).</param>
    public ManifestFilter(FleetRole role, ReplicationManifest manifest, IReadOnlyDictionary<string, int>? understoodSchemaVersions = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Role = role;
        _manifest = manifest;
        _understoodSchemaVersions = understoodSchemaVersions;
    }

    /// <summary>Which side this filter runs on.</summary>
    public FleetRole Role { get; }

    /// <summary>The manifest in force.</summary>
    public ReplicationManifest Manifest => Volatile.Read(ref _manifest);

    /// <summary>Collections held back since the last manifest change, with the schema version the manifest asks for.</summary>
    public IReadOnlyDictionary<string, int> HeldBackCollections => _heldBack;

    /// <summary>
    /// Puts <paramref name="manifest"/> in force unless an equal or newer revision already is; returns
    /// whether it was taken. Takes effect on the next filter call.
    /// </summary>
    public bool Update(ReplicationManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        while (true)
        {
            ReplicationManifest current = Volatile.Read(ref _manifest);
            if (manifest.Revision <= current.Revision && !ReferenceEquals(current, ReplicationManifest.Default))
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _manifest, manifest, current) == current)
            {
                _heldBack.Clear();
                return true;
            }
        }
    }

    /// <summary>Whether ops of <paramref name="collection"/> leave this side at all (ignoring the schema check).</summary>
    public bool Travels(string collection) => Travels(Manifest.GetRule(collection).Direction);

    /// <summary>Leader side: whether a node may write <paramref name="collection"/> (direction up or both).</summary>
    public bool MayNodeWrite(string collection) => Manifest.GetRule(collection).Direction is ReplicationDirection.Up or ReplicationDirection.Both;

    /// <summary>
    /// Filters one outgoing document op of <paramref name="collection"/> whose fields are the JSON
    /// object <paramref name="utf8Json"/> (a put's document or a patch; a delete passes an empty
    /// span). When the decision is <see cref="ManifestDecision.Send"/> or
    /// <see cref="ManifestDecision.SendStripped"/>, <paramref name="output"/> receives the bytes to
    /// send; otherwise nothing is written.
    /// </summary>
    /// <exception cref="FleetException">ManifestDocumentInvalid: local-only fields must be stripped and the input is not a JSON object.</exception>
    public ManifestDecision Filter(string collection, ReadOnlySpan<byte> utf8Json, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(output);
        ManifestDecision decision = Classify(collection, out CollectionRule rule);
        if (decision is ManifestDecision.Drop or ManifestDecision.HoldBack)
        {
            return decision;
        }

        if (rule.LocalOnlyFields.Count == 0 || utf8Json.IsEmpty)
        {
            output.Write(utf8Json);
            return ManifestDecision.Send;
        }

        return StripFields(collection, rule.LocalOnlyFields, utf8Json, output) ? ManifestDecision.SendStripped : ManifestDecision.Send;
    }

    /// <summary>
    /// Decides for one outgoing op of <paramref name="collection"/> without touching its content:
    /// <see cref="ManifestDecision.Drop"/> (does not travel this way), <see cref="ManifestDecision.HoldBack"/>
    /// (schema newer than understood), <see cref="ManifestDecision.SendStripped"/> (the rule names
    /// local-only fields: the caller removes them) or <see cref="ManifestDecision.Send"/>.
    /// </summary>
    /// <param name="collection">The op's collection.</param>
    /// <param name="rule">The rule in force for it (its <see cref="CollectionRule.LocalOnlyFields"/> say what to strip).</param>
    public ManifestDecision Classify(string collection, out CollectionRule rule)
    {
        ArgumentNullException.ThrowIfNull(collection);
        rule = Manifest.GetRule(collection);
        if (!Travels(rule.Direction))
        {
            return ManifestDecision.Drop;
        }

        if (_understoodSchemaVersions is not null)
        {
            int understood = _understoodSchemaVersions.TryGetValue(collection, out int version) ? version : 0;
            if (rule.SchemaVersion > understood)
            {
                _heldBack[collection] = rule.SchemaVersion;
                return ManifestDecision.HoldBack;
            }
        }

        return rule.LocalOnlyFields.Count > 0 ? ManifestDecision.SendStripped : ManifestDecision.Send;
    }

    private bool Travels(ReplicationDirection direction) => direction switch
    {
        ReplicationDirection.Both => true,
        ReplicationDirection.Up => Role == FleetRole.Node,
        ReplicationDirection.Down => Role == FleetRole.Leader,
        _ => false,
    };

    /// <summary>Writes the JSON object <paramref name="utf8Json"/> without its top-level <paramref name="fields"/>; true when one was there.</summary>
    /// <exception cref="FleetException">ManifestDocumentInvalid: not a JSON object.</exception>
    internal static bool StripFields(string collection, IReadOnlyCollection<string> fields, ReadOnlySpan<byte> utf8Json, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(utf8Json);
        JsonElement root;
        try
        {
            root = JsonElement.ParseValue(ref reader);
        }
        catch (JsonException exception)
        {
            throw new FleetException(FleetErrorCode.ManifestDocumentInvalid, $"An outgoing op of collection '{collection}' is not valid JSON: {exception.Message}", exception);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FleetException(FleetErrorCode.ManifestDocumentInvalid, $"An outgoing op of collection '{collection}' is a JSON {root.ValueKind}, not an object.");
        }

        bool stripped = false;
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (fields.Contains(property.Name, StringComparer.Ordinal))
            {
                stripped = true;
                continue;
            }

            property.WriteTo(writer);
        }

        writer.WriteEndObject();
        writer.Flush();
        return stripped;
    }
}
