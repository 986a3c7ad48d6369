using System.Text;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.Crdt;
using CortexEdge.Core.Documents;
using CortexEdge.Core.Tests.Crdt;

namespace CortexEdge.Core.Tests.Documents;

/// <summary>CRDT fields inside document state: convergence of whole documents under random delivery, and their decoders under fuzzing.</summary>
public sealed class DocumentCrdtFieldTests
{
    private static readonly string[] LwwFields = ["name", "mode"];

    [Fact]
    public void DocumentState_RandomOpsDeliveredInAnyOrder_ConvergeAndCountEveryIncrement()
    {
        int seed = CrdtTestEnvironment.Seed();
        var master = new Random(seed);
        int schedules = Math.Max(1, CrdtTestEnvironment.Schedules / 4);
        for (int schedule = 0; schedule < schedules; schedule++)
        {
            var random = new Random(master.Next());
            int replicaCount = random.Next(2, 6);
            var replicas = new Replica[replicaCount];
            for (int r = 0; r < replicaCount; r++)
            {
                replicas[r] = new Replica(0x100UL + (ulong)r);
            }

            bool deleted = false;
            long incrementSum = 0;
            var pending = new List<(int Target, DocumentOperation Operation, HlcTimestamp Timestamp)>();
            int operationsLeft = random.Next(1, 14);
            while (operationsLeft > 0 || pending.Count > 0)
            {
                if (operationsLeft > 0 && (pending.Count == 0 || random.Next(3) == 0))
                {
                    operationsLeft--;
                    Replica origin = replicas[random.Next(replicaCount)];
                    (DocumentOperation operation, long increment) = RandomOperation(origin, random);
                    deleted |= operation.Kind == DocumentOperationKind.CrdtDelete;
                    incrementSum += increment;
                    HlcTimestamp timestamp = origin.Tick(random);
                    origin.State.Apply(operation, timestamp);
                    for (int t = 0; t < replicaCount; t++)
                    {
                        if (replicas[t] != origin)
                        {
                            pending.Add((t, Reencode(operation), timestamp));
                        }
                    }
                }
                else
                {
                    int index = random.Next(pending.Count);
                    (int target, DocumentOperation operation, HlcTimestamp timestamp) = pending[index];
                    if (random.Next(5) != 0)
                    {
                        pending.RemoveAt(index);
                    }

                    replicas[target].Observe(timestamp);
                    replicas[target].State.Apply(operation, timestamp);
                }
            }

            string where = $"seed {seed} schedule {schedule}";
            byte[] reference = replicas[0].State.Encode();
            for (int r = 1; r < replicaCount; r++)
            {
                Assert.True(reference.AsSpan().SequenceEqual(replicas[r].State.Encode()), $"{where}: replica {r} diverged: {replicas[r].State.ToJson()} vs {replicas[0].State.ToJson()}");
            }

            DocumentState decoded = DocumentState.Decode(reference, where);
            Assert.Equal(replicas[0].State.ToJson(), decoded.ToJson());
            if (!deleted)
            {
                Assert.True(incrementSum == (replicas[0].State.GetCrdtField("hits")?.CounterValue ?? 0), $"{where}: counter lost increments: expected {incrementSum}");
            }
        }
    }

    [Fact]
    public void Decode_FuzzedCrdtFieldsAndStates_ThrowOnlyTypedErrors()
    {
        int seed = CrdtTestEnvironment.Seed();
        var random = new Random(seed);
        var replica = new Replica(0x42);
        var fields = new List<byte[]>();
        var states = new List<byte[]>();
        for (int i = 0; i < 60; i++)
        {
            (DocumentOperation operation, _) = RandomOperation(replica, random);
            replica.State.Apply(operation, replica.Tick(random));
            states.Add(replica.State.Encode());
            fields.AddRange(operation.Fields.Where(_ => operation.Kind is DocumentOperationKind.Crdt or DocumentOperationKind.CrdtDelete).Select(f => f.Utf8JsonValue.ToArray()));
        }

        int iterations = CrdtTestEnvironment.FuzzIterations / 2;
        for (int i = 0; i < iterations; i++)
        {
            byte[] field = Mutate(fields[random.Next(fields.Count)], random);
            try
            {
                DocumentCrdtField decoded = DocumentCrdtField.Decode(field);
                Assert.Equal(field, decoded.Encode());
            }
            catch (EdgeException exception) when (exception.Code == EdgeErrorCode.CrdtMalformed)
            {
            }

            byte[] state = Mutate(states[random.Next(states.Count)], random);
            try
            {
                DocumentState.Decode(state, "fuzz").ToJson();
            }
            catch (EdgeCorruptionException exception) when (exception.Code == EdgeErrorCode.DocumentMalformed)
            {
                Assert.Contains("fuzz", exception.Message, StringComparison.Ordinal);
            }
        }
    }

    private static (DocumentOperation Operation, long Increment) RandomOperation(Replica origin, Random random)
    {
        string json = ((char)('a' + random.Next(4))).ToString();
        byte[] element = Encoding.UTF8.GetBytes($"\"{json}\"");
        DocumentCrdtField Field(string name, DocumentFieldType type) => origin.State.GetCrdtField(name)?.Clone() ?? DocumentCrdtField.Create(type);
        switch (random.Next(8))
        {
            case 0:
            case 1:
                long amount = random.Next(-3, 6);
                return (Crdt("hits", Field("hits", DocumentFieldType.PnCounter).Increment(origin.Id, amount)), amount);
            case 2:
                return (Crdt("tags", Field("tags", DocumentFieldType.AddWinsSet).Add(origin.Id, element)), 0);
            case 3:
                return (Crdt("tags", Field("tags", DocumentFieldType.AddWinsSet).Remove(element)), 0);
            case 4:
                return (Crdt("list", random.Next(2) == 0 ? Field("list", DocumentFieldType.OrSet).Add(origin.Id, element) : Field("list", DocumentFieldType.OrSet).Remove(element)), 0);
            case 5:
                return (Crdt("ack", Field("ack", DocumentFieldType.MvRegister).Write(origin.Id, element)), 0);
            case 6:
                string name = LwwFields[random.Next(LwwFields.Length)];
                byte[] value = random.Next(4) == 0 ? [] : Encoding.UTF8.GetBytes(random.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture));
                return (new DocumentOperation(DocumentOperationKind.Patch, "c", "k", [new DocumentField(name, value)]), 0);
            default:
                if (random.Next(3) != 0)
                {
                    return (new DocumentOperation(DocumentOperationKind.Put, "c", "k", [new DocumentField("name", "\"put\""u8.ToArray())]), 0);
                }

                var resets = origin.State.CrdtFields.Select(f => (f.Key, Reset: f.Value.Reset(origin.Id))).Where(f => f.Reset is not null)
                    .Select(f => new DocumentField(f.Key, f.Reset!.Encode())).ToArray();
                return (new DocumentOperation(DocumentOperationKind.CrdtDelete, "c", "k", resets), 0);
        }
    }

    private static DocumentOperation Crdt(string name, DocumentCrdtField delta) =>
        new(DocumentOperationKind.Crdt, "c", "k", [new DocumentField(name, delta.Encode())]);

    // Ships the op through the WAL body codec, as sync would.
    private static DocumentOperation Reencode(DocumentOperation operation)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        if (operation.Kind is DocumentOperationKind.Crdt or DocumentOperationKind.CrdtDelete)
        {
            DocumentCodec.EncodeCrdt(buffer, operation.Kind, operation.Collection, operation.Key, [.. operation.Fields.Select(f => (f.Name, f.Utf8JsonValue.ToArray()))]);
            return DocumentCodec.Decode(buffer.WrittenSpan, "test");
        }

        return operation;
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        byte[] bytes = [.. valid];
        switch (random.Next(4))
        {
            case 0:
                bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                break;
            case 1:
                bytes = bytes[..random.Next(bytes.Length)];
                break;
            case 2:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                break;
            default:
                int at = random.Next(bytes.Length + 1);
                bytes = [.. bytes[..at], (byte)random.Next(256), .. bytes[at..]];
                break;
        }

        return bytes;
    }

    private sealed class Replica(ulong id)
    {
        private ulong _time = 1UL << 20;

        public ulong Id { get; } = id;

        public DocumentState State { get; } = new();

        public HlcTimestamp Tick(Random random)
        {
            _time += (ulong)random.Next(1, 4);
            return new HlcTimestamp(_time, Id);
        }

        public void Observe(HlcTimestamp timestamp) => _time = Math.Max(_time, timestamp.Time);
    }
}
