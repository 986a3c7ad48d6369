using System.Buffers;
using CortexEdge.Core.Documents;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// Pure binary codec of <see cref="ReplicationManifest"/> (the leader hands it to nodes, retained
/// on the broker): byte 0 format version, varint revision, byte default direction, varint rule
/// count, then per rule a varint-prefixed UTF-8 name, direction byte, priority byte, varint schema
/// version, varint field count and the fields; since version 2, a varint verify interval in
/// seconds (version 1 reads as zero). Thread-safe (stateless).
/// </summary>
public static class ReplicationManifestCodec
{
    /// <summary>The format version written and the newest one read.</summary>
    public const byte FormatVersion = 2;

    /// <summary>Appends the encoding of <paramref name="manifest"/> to <paramref name="output"/>.</summary>
    public static void Encode(ReplicationManifest manifest, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(output);
        FleetBufferWriter.WriteByte(output, FormatVersion);
        FleetBufferWriter.WriteVarUInt(output, (ulong)manifest.Revision);
        FleetBufferWriter.WriteByte(output, (byte)manifest.DefaultDirection);
        FleetBufferWriter.WriteVarUInt(output, (ulong)manifest.Collections.Count);
        foreach (CollectionRule rule in manifest.Collections)
        {
            FleetBufferWriter.WriteString(output, rule.Name);
            FleetBufferWriter.WriteByte(output, (byte)rule.Direction);
            FleetBufferWriter.WriteByte(output, rule.Priority);
            FleetBufferWriter.WriteVarUInt(output, (ulong)rule.SchemaVersion);
            FleetBufferWriter.WriteVarUInt(output, (ulong)rule.LocalOnlyFields.Count);
            foreach (string field in rule.LocalOnlyFields)
            {
                FleetBufferWriter.WriteString(output, field);
            }
        }

        FleetBufferWriter.WriteVarUInt(output, (ulong)manifest.VerifyInterval.TotalSeconds);
    }

    /// <summary>The encoding of <paramref name="manifest"/> as a new array.</summary>
    public static byte[] Encode(ReplicationManifest manifest)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Encode(manifest, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a manifest that fills <paramref name="source"/> exactly.</summary>
    /// <exception cref="FleetProtocolException">ManifestMalformed or ManifestVersionUnsupported, with the offset.</exception>
    /// <exception cref="FleetException">ManifestInvalid: well-formed but breaks a manifest rule (duplicate collection, ...).</exception>
    public static ReplicationManifest Decode(ReadOnlySpan<byte> source)
    {
        var reader = new FleetSpanReader(source, FleetErrorCode.ManifestMalformed, "replication manifest");
        byte version = reader.ReadByte();
        if (version == 0 || version > FormatVersion)
        {
            throw new FleetProtocolException(FleetErrorCode.ManifestVersionUnsupported,
                $"replication manifest: format version {version} is not supported (this build reads 1..{FormatVersion})", 0);
        }

        ulong revision = reader.ReadVarUInt();
        if (revision > long.MaxValue)
        {
            reader.Fail($"revision {revision} is out of range");
        }

        var defaultDirection = ReadDirection(ref reader);
        int count = reader.ReadCount(ReplicationManifest.CollectionCountMax, "collection count");
        var rules = new List<CollectionRule>(Math.Min(count, reader.Remaining));
        for (int index = 0; index < count; index++)
        {
            string name = reader.ReadString(DocumentLimits.CollectionNameBytesMax, "collection name");
            ReplicationDirection direction = ReadDirection(ref reader);
            byte priority = reader.ReadByte();
            int schemaVersion = reader.ReadCount(int.MaxValue, "schema version");
            int fieldCount = reader.ReadCount(CollectionRule.LocalOnlyFieldCountMax, "local-only field count");
            var fields = new string[fieldCount];
            for (int field = 0; field < fieldCount; field++)
            {
                fields[field] = reader.ReadString(DocumentLimits.KeyBytesMax, "field name");
            }

            rules.Add(new CollectionRule { Name = name, Direction = direction, Priority = priority, SchemaVersion = schemaVersion, LocalOnlyFields = fields });
        }

        int verifySeconds = version >= 2 ? reader.ReadCount(int.MaxValue, "verify interval") : 0;
        reader.ExpectEnd();
        return new ReplicationManifest((long)revision, rules, defaultDirection, TimeSpan.FromSeconds(verifySeconds));
    }

    private static ReplicationDirection ReadDirection(ref FleetSpanReader reader)
    {
        byte value = reader.ReadByte();
        if (value > (byte)ReplicationDirection.Both)
        {
            reader.Fail($"direction {value} is unknown");
        }

        return (ReplicationDirection)value;
    }
}
