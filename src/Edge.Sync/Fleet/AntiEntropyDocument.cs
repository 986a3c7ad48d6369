namespace CortexEdge.Sync.Fleet;

/// <summary>
/// A peer's state of one key, sent for repair: whether it holds a live document, its version
/// (HLC time of the last change) and its canonical JSON (without local-only fields).
/// </summary>
/// <param name="Key">The document key.</param>
/// <param name="Present">false when the peer holds no live document under the key.</param>
/// <param name="Version">The last-change HLC time; when absent, the time of its delete (0 when the peer never held it).</param>
/// <param name="Utf8Json">The document (empty when absent).</param>
public readonly record struct AntiEntropyDocument(string Key, bool Present, ulong Version, ReadOnlyMemory<byte> Utf8Json);
