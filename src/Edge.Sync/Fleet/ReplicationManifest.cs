using CortexEdge.Core.Documents;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The leader's replication rules for the fleet, handed to every node: a rule per named
/// collection and a default for the rest. <see cref="Revision"/> grows with every change so a node
/// keeps the newest one it has seen. Immutable.
/// </summary>
public sealed class ReplicationManifest
{
    /// <summary>Most collection rules in one manifest.</summary>
    public const int CollectionCountMax = 4096;

    private readonly Dictionary<string, CollectionRule> _rules;

    /// <summary>Creates a manifest.</summary>
    /// <exception cref="FleetException">ManifestInvalid: a duplicate or invalid collection name, a negative schema version, or a limit exceeded.</exception>
    /// <param name="revision">Grows with every change.</param>
    /// <param name="collections">The rules.</param>
    /// <param name="defaultDirection">Direction of collections without a rule.</param>
    /// <param name="verifyInterval">How often every node verifies (and repairs) its collections against the leader; zero: never on its own.</param>
    public ReplicationManifest(long revision, IReadOnlyList<CollectionRule> collections, ReplicationDirection defaultDirection = ReplicationDirection.Both, TimeSpan verifyInterval = default)
    {
        ArgumentNullException.ThrowIfNull(collections);
        if (revision < 0)
        {
            throw Invalid($"revision {revision} is negative");
        }

        if (collections.Count > CollectionCountMax)
        {
            throw Invalid($"{collections.Count} collections exceed the limit {CollectionCountMax}");
        }

        if (!Enum.IsDefined(defaultDirection))
        {
            throw Invalid($"default direction {(byte)defaultDirection} is unknown");
        }

        _rules = new Dictionary<string, CollectionRule>(collections.Count, StringComparer.Ordinal);
        foreach (CollectionRule rule in collections)
        {
            Validate(rule);
            if (!_rules.TryAdd(rule.Name, rule))
            {
                throw Invalid($"collection '{rule.Name}' appears twice");
            }
        }

        if (verifyInterval < TimeSpan.Zero || verifyInterval.TotalSeconds > uint.MaxValue)
        {
            throw Invalid($"verify interval {verifyInterval} is negative or too long");
        }

        VerifyInterval = TimeSpan.FromSeconds(Math.Floor(verifyInterval.TotalSeconds));
        Revision = revision;
        Collections = collections.ToArray();
        DefaultDirection = defaultDirection;
    }

    /// <summary>An empty manifest: every collection replicates both ways, no field is local-only.</summary>
    public static ReplicationManifest Default { get; } = new(0, []);

    /// <summary>Grows with every change; a node ignores a manifest older than the one it holds.</summary>
    public long Revision { get; }

    /// <summary>The rules, in the order given.</summary>
    public IReadOnlyList<CollectionRule> Collections { get; }

    /// <summary>
    /// The pace of anti-entropy the leader sets for the fleet: each node verifies every collection it
    /// shares in full with the leader (both, down) this often and repairs what differs (whole
    /// seconds; zero: only on demand).
    /// </summary>
    public TimeSpan VerifyInterval { get; }

    /// <summary>Direction of collections without a rule.</summary>
    public ReplicationDirection DefaultDirection { get; }

    /// <summary>The rule for <paramref name="collection"/>, or a default rule (direction <see cref="DefaultDirection"/>, schema 0) when it has none.</summary>
    public CollectionRule GetRule(string collection)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return _rules.TryGetValue(collection, out CollectionRule? rule)
            ? rule
            : new CollectionRule { Name = collection, Direction = DefaultDirection };
    }

    private static void Validate(CollectionRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (string.IsNullOrEmpty(rule.Name) || System.Text.Encoding.UTF8.GetByteCount(rule.Name) > DocumentLimits.CollectionNameBytesMax)
        {
            throw Invalid($"collection name '{rule.Name}' is empty or longer than {DocumentLimits.CollectionNameBytesMax} UTF-8 bytes");
        }

        if (!Enum.IsDefined(rule.Direction))
        {
            throw Invalid($"collection '{rule.Name}' has unknown direction {(byte)rule.Direction}");
        }

        if (rule.SchemaVersion < 0)
        {
            throw Invalid($"collection '{rule.Name}' has negative schema version {rule.SchemaVersion}");
        }

        if (rule.LocalOnlyFields.Count > CollectionRule.LocalOnlyFieldCountMax)
        {
            throw Invalid($"collection '{rule.Name}' has {rule.LocalOnlyFields.Count} local-only fields (limit {CollectionRule.LocalOnlyFieldCountMax})");
        }

        foreach (string field in rule.LocalOnlyFields)
        {
            if (string.IsNullOrEmpty(field) || System.Text.Encoding.UTF8.GetByteCount(field) > DocumentLimits.KeyBytesMax)
            {
                throw Invalid($"collection '{rule.Name}' has an empty or overlong local-only field name");
            }
        }
    }

    private static FleetException Invalid(string detail) => new(FleetErrorCode.ManifestInvalid, $"Replication manifest: {detail}.");
}
