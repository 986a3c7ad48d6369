namespace CortexEdge.Sync.Fleet;

/// <summary>
/// One key of a replica's state as anti-entropy sees it: the key and a 64-bit hash of everything
/// that must agree (key, canonical value bytes, version). Two replicas hold the same document when
/// both have the key with the same <see cref="Hash"/>.
/// </summary>
public readonly record struct AntiEntropyItem(string Key, ulong Hash)
{
    /// <summary>The item for <paramref name="key"/> holding <paramref name="value"/> (canonical bytes) at <paramref name="version"/> (e.g. an HLC time).</summary>
    public static AntiEntropyItem Create(string key, ReadOnlySpan<byte> value, ulong version)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new AntiEntropyItem(key, FleetHash.Combine(FleetHash.Hash(key), FleetHash.Hash(value), version));
    }
}
