namespace CortexEdge.Core.Crdt;

/// <summary>
/// Encodes, decodes, compares and hashes the values held by CRDTs (register values, set elements,
/// map keys). The total order gives encodings a canonical element order and breaks ties that a
/// correct clock never produces; equality and hashing follow the order (<c>Compare == 0</c>).
/// Implementations are stateless and thread-safe. Built-in codecs are on <see cref="CrdtValueCodecs"/>.
/// </summary>
/// <typeparam name="T">The value type.</typeparam>
public abstract class CrdtValueCodec<T> : IComparer<T>, IEqualityComparer<T>
    where T : notnull
{
    /// <summary>Appends <paramref name="value"/>.</summary>
    public abstract void Write(ref CrdtWriter writer, T value);

    /// <summary>Reads one value; throws <see cref="EdgeException"/> (<see cref="EdgeErrorCode.CrdtMalformed"/>) on bad input.</summary>
    public abstract T Read(ref CrdtReader reader);

    /// <summary>A total order over values.</summary>
    public abstract int Compare(T? x, T? y);

    /// <summary>Equality consistent with <see cref="Compare"/>.</summary>
    public virtual bool Equals(T? x, T? y) => Compare(x, y) == 0;

    /// <summary>A hash consistent with <see cref="Equals(T, T)"/>.</summary>
    public abstract int GetHashCode(T obj);
}
