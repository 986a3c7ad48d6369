using System.Text.Json;
using CortexEdge.Core.Clocks;

namespace CortexEdge.Core.Documents;

/// <summary>A document as read: its key, its visible fields as a JSON object, and the timestamp of its latest change.</summary>
public sealed class EdgeDocument
{
    private readonly byte[] _utf8Json;

    internal EdgeDocument(string collection, string key, byte[] utf8Json, HlcTimestamp lastChange)
    {
        Collection = collection;
        Key = key;
        _utf8Json = utf8Json;
        LastChange = lastChange;
    }

    /// <summary>The collection the document belongs to.</summary>
    public string Collection { get; }

    /// <summary>The document's key.</summary>
    public string Key { get; }

    /// <summary>HLC of the latest op folded into the document (put, patch or a field change).</summary>
    public HlcTimestamp LastChange { get; }

    /// <summary>The document as UTF-8 JSON (an object; fields in ordinal name order).</summary>
    public ReadOnlyMemory<byte> Utf8Json => _utf8Json;

    /// <summary>The document as a JSON string.</summary>
    public string ToJsonString() => System.Text.Encoding.UTF8.GetString(_utf8Json);

    /// <summary>Parses the document; the caller disposes the result.</summary>
    public JsonDocument Parse() => JsonDocument.Parse(_utf8Json);

    /// <summary>The JSON text.</summary>
    public override string ToString() => ToJsonString();
}
