using System.Text;
using CortexEdge.Sync.Fleet;

namespace CortexEdge.Sync.Tests.Fleet;

/// <summary>Seeds, iteration counts and in-memory replicas for the fleet tests.</summary>
internal static class FleetTestSupport
{
    public static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int seed) ? seed : Random.Shared.Next();

    public static int FuzzIterations() =>
        int.TryParse(Environment.GetEnvironmentVariable("CE_FUZZ_ITERATIONS"), out int count) ? count : 20_000;

    /// <summary>An in-memory replica: key -> (value, version).</summary>
    public sealed class MemorySource : IAntiEntropySource
    {
        public Dictionary<string, (string Value, ulong Version)> Documents { get; } = new(StringComparer.Ordinal);

        public static MemorySource Create(int count, int seed)
        {
            var random = new Random(seed);
            var source = new MemorySource();
            for (int index = 0; index < count; index++)
            {
                source.Documents[$"doc-{index:D6}"] = ($"{{\"t\":{random.Next(1000)},\"room\":\"r{index % 37}\"}}", (ulong)(1000 + index));
            }

            return source;
        }

        public MemorySource Clone()
        {
            var clone = new MemorySource();
            foreach ((string key, (string Value, ulong Version) entry) in Documents)
            {
                clone.Documents[key] = entry;
            }

            return clone;
        }

        public IEnumerable<AntiEntropyItem> ReadItems()
        {
            foreach ((string key, (string value, ulong version)) in Documents)
            {
                yield return AntiEntropyItem.Create(key, Encoding.UTF8.GetBytes(value), version);
            }
        }

        /// <summary>Bytes a full-state transfer would send: every key, value and version.</summary>
        public long FullStateBytes() => Documents.Sum(d => Encoding.UTF8.GetByteCount(d.Key) + Encoding.UTF8.GetByteCount(d.Value.Value) + 8L);
    }
}
