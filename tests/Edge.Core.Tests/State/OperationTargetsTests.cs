using System.Buffers;
using System.Text;
using CortexEdge.Core.Documents;
using CortexEdge.Core.State;
using CortexEdge.Core.Tests.Documents;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Vectors;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.State;

public sealed class OperationTargetsTests
{
    private static List<string> Names(WalRecordKind kind, byte[] body)
    {
        var names = new List<string>();
        bool matched = OperationTargets.Any(kind, body, name =>
        {
            names.Add(Encoding.UTF8.GetString(name));
            return false;
        });
        Assert.False(matched);
        return names;
    }

    [Fact]
    public void Any_Document_ReadsTheCollection()
    {
        Assert.Equal(["alarms"], Names(WalRecordKind.Document, DocumentCodecTests.Encode(DocumentOperationKind.Put, "alarms", "a-1", "{\"level\":3}")));
        Assert.Equal(["assets"], Names(WalRecordKind.Document, DocumentCodecTests.Encode(DocumentOperationKind.Delete, "assets", "x", "")));
    }

    [Fact]
    public void Any_TimeSeriesAppend_ReadsEverySeriesAndStopsAtTheFirstMatch()
    {
        TimeSeriesReading[] readings = [new(1_000, 1.5), new(2_000, -3), new(900, 7)];
        byte[] buffer = new byte[TimeSeriesBatchCodec.MaxAppendBytes(3, 9)];
        int length = TimeSeriesBatchCodec.WriteAppend(buffer, [("site.temp", readings), ("site.alarm", readings), ("site.hum", readings)]);
        byte[] body = buffer[..length];
        Assert.Equal(["site.temp", "site.alarm", "site.hum"], Names(WalRecordKind.TimeSeriesBatch, body));

        int seen = 0;
        Assert.True(OperationTargets.Any(WalRecordKind.TimeSeriesBatch, body, name => ++seen > 0 && name.SequenceEqual("site.alarm"u8)));
        Assert.Equal(2, seen);
    }

    [Fact]
    public void Any_TimeSeriesAppendInGorillaAndVersion1Encodings_ReadsEverySeries()
    {
        // Increasing timestamps: the groups are written in the Gorilla encoding.
        TimeSeriesReading[] readings = [.. Enumerable.Range(0, 50).Select(i => new TimeSeriesReading(1_700_000_000_000 + (i * 1000), 20 + (i * 0.1)))];
        byte[] buffer = new byte[TimeSeriesBatchCodec.MaxAppendBytes(2, 100)];
        int length = TimeSeriesBatchCodec.WriteAppend(buffer, [("site.temp", readings), ("site.hum", readings)]);
        Assert.Equal(["site.temp", "site.hum"], Names(WalRecordKind.TimeSeriesBatch, buffer[..length]));

        // Version 1: groups without an encoding byte.
        byte[] version1 = [1, 1, 2, 1, (byte)'a', 1, 2, .. BitConverter.GetBytes(1.0), 1, (byte)'b', 1, 4, .. BitConverter.GetBytes(2.0)];
        Assert.Equal(["a", "b"], Names(WalRecordKind.TimeSeriesBatch, version1));
    }

    [Fact]
    public void Any_TimeSeriesDeleteAndDropBefore_ReadTheSeries()
    {
        byte[] buffer = new byte[TimeSeriesBatchCodec.MaxSeriesOperationBytes];
        Assert.Equal(["old.series"], Names(WalRecordKind.TimeSeriesBatch, buffer[..TimeSeriesBatchCodec.WriteDeleteSeries(buffer, "old.series")]));
        Assert.Equal(["kept"], Names(WalRecordKind.TimeSeriesBatch, buffer[..TimeSeriesBatchCodec.WriteDropBefore(buffer, "kept", 5)]));
    }

    [Fact]
    public void Any_Vector_ReadsTheCollection()
    {
        var output = new ArrayBufferWriter<byte>();
        VectorCodec.EncodeUpsert(output, "faces", "v1", "doc-1", VectorMetric.Cosine, [1f, 2f, 3f]);
        Assert.Equal(["faces"], Names(WalRecordKind.Vector, output.WrittenSpan.ToArray()));
    }

    [Fact]
    public void Any_KindsWithoutTargets_MatchNothing()
    {
        Assert.Empty(Names(WalRecordKind.Checkpoint, [1, 2, 3, 4]));
        Assert.Empty(Names(WalRecordKind.RemoteOp, [1, 2, 3, 4]));
        Assert.Empty(Names(WalRecordKind.Document, [1]));
    }

    [Fact]
    public void Any_Fuzzed_NeverThrowsAndNamesStayInsideTheBody()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        int iterations = TestRandom.Iterations("CE_FUZZ_ITERATIONS", 20_000);
        WalRecordKind[] kinds = [WalRecordKind.Document, WalRecordKind.TimeSeriesBatch, WalRecordKind.Vector];
        byte[] valid = new byte[TimeSeriesBatchCodec.MaxAppendBytes(2, 4)];
        int validLength = TimeSeriesBatchCodec.WriteAppend(valid, [("a", new TimeSeriesReading[] { new(1, 1), new(2, 2) }), ("b", new TimeSeriesReading[] { new(3, 3), new(4, 4) })]);
        for (int i = 0; i < iterations; i++)
        {
            byte[] input;
            if (i % 2 == 0)
            {
                input = new byte[random.Next(0, 64)];
                random.NextBytes(input);
            }
            else
            {
                // A valid body with a flipped byte or a cut tail.
                input = valid[..random.Next(0, validLength + 1)];
                if (input.Length > 0 && random.Next(2) == 0)
                {
                    input[random.Next(input.Length)] ^= (byte)(1 + random.Next(255));
                }
            }

            WalRecordKind kind = kinds[random.Next(kinds.Length)];
            int total = 0;
            try
            {
                OperationTargets.Any(kind, input, name =>
                {
                    total += name.Length;
                    return false;
                });
            }
            catch (Exception ex)
            {
                Assert.Fail($"seed {seed} (CE_TEST_SEED), iteration {i}, kind {kind}: {ex}");
            }

            Assert.True(total <= input.Length, $"seed {seed} (CE_TEST_SEED), iteration {i}: names of {total} bytes from a {input.Length}-byte body");
        }
    }
}
