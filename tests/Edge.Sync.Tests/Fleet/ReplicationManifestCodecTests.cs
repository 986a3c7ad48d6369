using CortexEdge.Sync.Fleet;

namespace CortexEdge.Sync.Tests.Fleet;

public sealed class ReplicationManifestCodecTests
{
    [Fact]
    public void Decode_Encoded_RoundTrips()
    {
        ReplicationManifest manifest = Sample();

        ReplicationManifest decoded = ReplicationManifestCodec.Decode(ReplicationManifestCodec.Encode(manifest));

        Assert.Equal(manifest.Revision, decoded.Revision);
        Assert.Equal(manifest.DefaultDirection, decoded.DefaultDirection);
        Assert.Equal(manifest.Collections.Count, decoded.Collections.Count);
        for (int index = 0; index < manifest.Collections.Count; index++)
        {
            CollectionRule expected = manifest.Collections[index];
            CollectionRule actual = decoded.Collections[index];
            Assert.Equal((expected.Name, expected.Direction, expected.Priority, expected.SchemaVersion), (actual.Name, actual.Direction, actual.Priority, actual.SchemaVersion));
            Assert.Equal(expected.LocalOnlyFields, actual.LocalOnlyFields);
        }
    }

    [Fact]
    public void Decode_VerifyInterval_RoundTrips_AndVersion1ReadsAsNone()
    {
        var manifest = new ReplicationManifest(7, [new CollectionRule { Name = "a" }], ReplicationDirection.Both, TimeSpan.FromMinutes(90));
        byte[] encoded = ReplicationManifestCodec.Encode(manifest);

        Assert.Equal(TimeSpan.FromMinutes(90), ReplicationManifestCodec.Decode(encoded).VerifyInterval);

        // A version-1 manifest (from a leader before the verify pace existed) has no trailing interval.
        byte[] version1 = ReplicationManifestCodec.Encode(new ReplicationManifest(7, [new CollectionRule { Name = "a" }]))[..^1];
        version1[0] = 1;
        Assert.Equal(TimeSpan.Zero, ReplicationManifestCodec.Decode(version1).VerifyInterval);
        Assert.Equal("a", Assert.Single(ReplicationManifestCodec.Decode(version1).Collections).Name);
    }

    [Fact]
    public void Decode_DuplicateCollection_ThrowsManifestInvalid()
    {
        byte[] encoded = ReplicationManifestCodec.Encode(new ReplicationManifest(1, [new CollectionRule { Name = "a" }, new CollectionRule { Name = "b" }]));
        int second = Array.LastIndexOf(encoded, (byte)'b');
        encoded[second] = (byte)'a';

        var error = Assert.Throws<FleetException>(() => ReplicationManifestCodec.Decode(encoded));

        Assert.Equal(FleetErrorCode.ManifestInvalid, error.Code);
        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NewerVersion_ThrowsVersionUnsupported()
    {
        byte[] encoded = ReplicationManifestCodec.Encode(Sample());
        encoded[0] = ReplicationManifestCodec.FormatVersion + 1;

        Assert.Equal(FleetErrorCode.ManifestVersionUnsupported, Assert.Throws<FleetProtocolException>(() => ReplicationManifestCodec.Decode(encoded)).Code);
    }

    [Fact]
    public void Decode_RandomAndMutatedInputs_ThrowTypedErrorOrDecode()
    {
        int seed = FleetTestSupport.Seed();
        var random = new Random(seed);
        byte[] valid = ReplicationManifestCodec.Encode(Sample());
        int decoded = 0;
        for (int iteration = 0; iteration < FleetTestSupport.FuzzIterations(); iteration++)
        {
            byte[] input = (byte[])valid.Clone();
            for (int mutation = random.Next(1, 4); mutation > 0; mutation--)
            {
                input[random.Next(input.Length)] = (byte)random.Next(256);
            }

            if (random.Next(3) == 0)
            {
                input = input.AsSpan(0, random.Next(input.Length + 1)).ToArray();
            }

            try
            {
                ReplicationManifestCodec.Decode(input);
                decoded++;
            }
            catch (FleetException exception) when (exception.Code is FleetErrorCode.ManifestMalformed or FleetErrorCode.ManifestVersionUnsupported or FleetErrorCode.ManifestInvalid)
            {
                if (exception is FleetProtocolException protocol)
                {
                    Assert.True(protocol.Offset <= input.Length, $"seed {seed}, iteration {iteration}: offset {protocol.Offset} past {input.Length}");
                }
            }
            catch (Exception exception)
            {
                Assert.Fail($"seed {seed}, iteration {iteration}: {exception.GetType().Name}: {exception.Message}");
            }
        }

        Assert.True(decoded > 0, $"seed {seed}: no mutation decoded");
    }

    private static ReplicationManifest Sample() => new(42,
    [
        new CollectionRule { Name = "readings", Direction = ReplicationDirection.Up, Priority = 10, SchemaVersion = 2 },
        new CollectionRule { Name = "config", Direction = ReplicationDirection.Down, Priority = 200 },
        new CollectionRule { Name = "patients", Direction = ReplicationDirection.Both, LocalOnlyFields = ["ssn", "notes"], SchemaVersion = 7 },
        new CollectionRule { Name = "scratch", Direction = ReplicationDirection.LocalOnly },
    ], ReplicationDirection.LocalOnly);
}
