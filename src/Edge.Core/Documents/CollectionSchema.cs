namespace CortexEdge.Core.Documents;

/// <summary>
/// Declares the CRDT type of a collection's fields (<see cref="EdgeDatabase.DeclareCollection"/>).
/// Fields not named are last-writer-wins registers. Every replica must declare the same types (the
/// declaration is configuration, like a schema in code); the engine stores the type with each
/// field's state, so data written under a declaration keeps its meaning. Immutable once built.
/// </summary>
public sealed class CollectionSchema
{
    private readonly Dictionary<string, DocumentFieldType> _fields;

    /// <summary>Creates a schema for <paramref name="collection"/> with the given field types.</summary>
    /// <exception cref="ArgumentException">A field name is empty or an unknown type is given.</exception>
    public CollectionSchema(string collection, IReadOnlyDictionary<string, DocumentFieldType> fields)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        ArgumentNullException.ThrowIfNull(fields);
        Collection = collection;
        _fields = new Dictionary<string, DocumentFieldType>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, DocumentFieldType> field in fields)
        {
            if (!Enum.IsDefined(field.Value))
            {
                throw new ArgumentException($"Field '{field.Key}' of collection '{collection}' has unknown type {(byte)field.Value}.", nameof(fields));
            }

            _fields.Add(field.Key, field.Value);
        }
    }

    /// <summary>The collection the schema describes.</summary>
    public string Collection { get; }

    /// <summary>The declared (non-default) field types.</summary>
    public IReadOnlyDictionary<string, DocumentFieldType> Fields => _fields;

    /// <summary>The type of <paramref name="field"/>: its declared type, or <see cref="DocumentFieldType.LwwRegister"/>.</summary>
    public DocumentFieldType TypeOf(string field) => _fields.GetValueOrDefault(field, DocumentFieldType.LwwRegister);

    /// <summary>True when both declare the same types.</summary>
    internal bool SameAs(CollectionSchema other) =>
        Collection == other.Collection && _fields.Count == other._fields.Count && _fields.All(f => other._fields.TryGetValue(f.Key, out DocumentFieldType t) && t == f.Value);
}
