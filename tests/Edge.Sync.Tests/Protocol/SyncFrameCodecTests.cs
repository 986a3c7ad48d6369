using System.Buffers.Binary;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Tests.Sync;

namespace CortexEdge.Sync.Tests.Protocol;

public sealed class SyncFrameCodecTests
{
    private static readonly SyncFrameLimits Limits = SyncFrameLimits.Default;

    internal static IEnumerable<SyncFrame> SampleFrames()
    {
        var payload = new byte[300];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i % 7);
        }

        SyncOp[] upOps = [.. Enumerable.Range(0, 20).Select(i => new SyncOp(42, 5 + i, SyncOp.PackHlc(1_800_000_000_000 + i, (ushort)i), i % 3 == 0 ? SyncOpFlags.Priority : SyncOpFlags.None, payload.AsMemory(0, i * 10)))];
        SyncOp[] downOps = [.. Enumerable.Range(0, 20).Select(i => new SyncOp((ulong)(7 + (i % 3)), 1 + i, SyncOp.PackHlc(1_800_000_000_000, 0), SyncOpFlags.Delete, payload.AsMemory(0, i), Lsn: 100 + (2 * i)))];
        yield return new UploadBatchFrame { Fleet = "fleet-a", Node = "gw-1", Sender = 42, Origin = 42, FirstSeq = 5, Ops = upOps };
        yield return new UploadBatchFrame { Fleet = "f", Node = "n", Sender = 42, Origin = 42, FirstSeq = 1, Ops = [] };
        yield return new AckFrame { Fleet = "fleet-a", Node = "gw-1", Sender = 1, Origin = 42, AckedSeq = 99, HeadLsn = 1234, LeaderUnixMilliseconds = 1_800_000_000_000 };
        yield return new ResendRequestFrame { Fleet = "fleet-a", Node = "gw-1", Sender = 1, Origin = 42, FromSeq = 17 };
        yield return new PullFrame { Fleet = "fleet-a", Node = "gw-1", Sender = 42, AfterLsn = 77, UploadDrained = true, SnapshotId = 0xABCDEF, SnapshotNextChunk = 3, VersionVector = [new(42, 10), new(7, 3)] };
        yield return new DownloadBatchFrame { Fleet = "fleet-a", Node = "gw-1", Sender = 1, IsLast = true, FromLsn = 99, ToLsn = 140, HeadLsn = 150, LeaderUnixMilliseconds = 5, Ops = downOps };
        yield return new SnapshotChunkFrame { Fleet = "fleet-a", Node = "gw-1", Sender = 1, SnapshotId = 9, SnapshotLsn = 500, Index = 2, Total = 4, TotalBytes = 1000, Checksum = 0xDEADBEEF, Data = payload.AsMemory(0, 250) };
        yield return new ErrorFrame { Fleet = "fleet-a", Node = "gw-1", Sender = 1, Code = SyncProtocolErrorCode.ClockSkew, Detail = 21, Message = "op seq 21 is 90000 ms ahead — fix the clock" };
        yield return new StatusFrame { Fleet = "fleet-a", Node = "gw-1", Sender = 1, Kind = SyncStatusKind.UpToDate, HeadLsn = 150, LeaderUnixMilliseconds = 7 };
    }

    public static TheoryData<int> SampleIndexes() => [.. Enumerable.Range(0, SampleFrames().Count())];

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Encode_ThenDecode_RoundTripsEveryField(int index)
    {
        SyncFrame frame = SampleFrames().ElementAt(index);
        byte[] bytes = SyncFrameCodec.Encode(frame);
        SyncFrame decoded = SyncFrameCodec.Decode(bytes);
        Assert.Equal(Describe(frame), Describe(decoded));
        Assert.Equal(bytes, SyncFrameCodec.Encode(decoded));
    }

    [Fact]
    public void Encode_RepetitiveBatch_IsCompressedAndSmallerThanItsBody()
    {
        var payload = new byte[200];
        SyncOp[] ops = [.. Enumerable.Range(0, 200).Select(i => new SyncOp(1, i + 1, 0, SyncOpFlags.None, payload))];
        byte[] bytes = SyncFrameCodec.Encode(new UploadBatchFrame { Fleet = "f", Node = "n", Sender = 1, Origin = 1, FirstSeq = 1, Ops = ops });
        Assert.Equal((byte)SyncFrameFlags.Compressed, (byte)(bytes[6] & (byte)SyncFrameFlags.Compressed));
        Assert.True(bytes.Length < 200 * 200 / 10, $"compressed frame is {bytes.Length} bytes");
        Assert.Equal(200, ((UploadBatchFrame)SyncFrameCodec.Decode(bytes)).Ops.Count);
    }

    [Fact]
    public void Decode_NewerProtocolVersion_IsRefusedNotGuessed()
    {
        byte[] bytes = SyncFrameCodec.Encode(SampleFrames().First());
        bytes[4] = SyncFrameCodec.CurrentVersion + 1;
        var ex = Assert.Throws<SyncProtocolException>(() => SyncFrameCodec.Decode(bytes));
        Assert.Equal(SyncProtocolErrorCode.UnsupportedVersion, ex.Code);
        Assert.Contains("newer", ex.Message);

        // Even when nothing else in the frame makes sense to this version.
        byte[] minimal = [0x43, 0x45, 0x53, 0x59, 9];
        Assert.Equal(SyncProtocolErrorCode.UnsupportedVersion, Assert.Throws<SyncProtocolException>(() => SyncFrameCodec.Decode(minimal)).Code);
    }

    [Fact]
    public void Decode_FlippedBodyBit_FailsTheChecksum()
    {
        byte[] bytes = SyncFrameCodec.Encode(SampleFrames().ElementAt(2));
        bytes[^6] ^= 0x10;
        Assert.Equal(SyncProtocolErrorCode.ChecksumMismatch, Assert.Throws<SyncProtocolException>(() => SyncFrameCodec.Decode(bytes)).Code);
    }

    [Fact]
    public void Decode_WrongMagic_IsBadMagic()
    {
        byte[] bytes = SyncFrameCodec.Encode(SampleFrames().ElementAt(2));
        bytes[0] = (byte)'X';
        Assert.Equal(SyncProtocolErrorCode.BadMagic, Assert.Throws<SyncProtocolException>(() => SyncFrameCodec.Decode(bytes)).Code);
    }

    [Fact]
    public void Decode_EveryTruncation_FailsWithATypedError()
    {
        foreach (SyncFrame frame in SampleFrames())
        {
            byte[] bytes = SyncFrameCodec.Encode(frame);
            for (int length = 0; length < bytes.Length; length++)
            {
                Assert.False(SyncFrameCodec.TryDecode(bytes.AsSpan(0, length), Limits, out _, out SyncDecodeError error), $"{frame.Type} truncated to {length} decoded");
                Assert.NotEqual(SyncProtocolErrorCode.None, error.Code);
            }
        }
    }

    [Fact]
    public void Decode_FrameOverTheLimit_IsFrameTooLarge()
    {
        var small = new SyncFrameLimits { FrameBytesMax = 1024, OpBytesMax = 512 };
        var random = new Random(5);
        SyncOp[] ops = [.. Enumerable.Range(0, 4).Select(i =>
        {
            var payload = new byte[400]; // incompressible, distinct per op
            random.NextBytes(payload);
            return new SyncOp(1, i + 1, 0, SyncOpFlags.None, payload);
        })];
        var frame = new UploadBatchFrame { Fleet = "f", Node = "n", Sender = 1, Origin = 1, FirstSeq = 1, Ops = ops };
        Assert.Equal(SyncProtocolErrorCode.FrameTooLarge, Assert.Throws<SyncProtocolException>(() => SyncFrameCodec.Encode(frame, small)).Code);
        byte[] bytes = SyncFrameCodec.Encode(frame);
        Assert.Equal(SyncProtocolErrorCode.FrameTooLarge, Assert.Throws<SyncProtocolException>(() => SyncFrameCodec.Decode(bytes, small)).Code);
    }

    [Fact]
    public void Encode_OpOverTheLimit_IsOpTooLarge()
    {
        var frame = new UploadBatchFrame { Fleet = "f", Node = "n", Sender = 1, Origin = 1, FirstSeq = 1, Ops = [new SyncOp(1, 1, 0, SyncOpFlags.None, new byte[70_000])] };
        Assert.Equal(SyncProtocolErrorCode.OpTooLarge, Assert.Throws<SyncProtocolException>(() => SyncFrameCodec.Encode(frame)).Code);
        byte[] bytes = SyncFrameCodec.Encode(frame, new SyncFrameLimits { OpBytesMax = 100_000 });
        Assert.Equal(SyncProtocolErrorCode.OpTooLarge, Assert.Throws<SyncProtocolException>(() => SyncFrameCodec.Decode(bytes)).Code);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("a+")]
    [InlineData("#")]
    [InlineData("tab\there")]
    public void Encode_NameUnusableInATopic_IsInvalidName(string node)
    {
        var frame = new StatusFrame { Fleet = "f", Node = node, Sender = 1, Kind = SyncStatusKind.UpToDate, HeadLsn = 0 };
        Assert.Equal(SyncProtocolErrorCode.InvalidName, Assert.Throws<SyncProtocolException>(() => SyncFrameCodec.Encode(frame)).Code);
    }

    [Fact]
    public void Encode_UploadOpsOutOfSequence_IsRefused()
    {
        var frame = new UploadBatchFrame { Fleet = "f", Node = "n", Sender = 1, Origin = 1, FirstSeq = 1, Ops = [new SyncOp(1, 2, 0, SyncOpFlags.None, default)] };
        Assert.Equal(SyncProtocolErrorCode.Malformed, Assert.Throws<SyncProtocolException>(() => SyncFrameCodec.Encode(frame)).Code);
    }

    [Fact]
    public void TryDecode_FuzzedAndMutatedFrames_NeverThrowsAndRoundTripsWhatItAccepts()
    {
        int seed = TestEnvironment.Seed();
        int iterations = TestEnvironment.Int("CE_FUZZ_ITERATIONS", 20000);
        var random = new Random(seed);
        byte[][] valid = [.. SampleFrames().Select(f => SyncFrameCodec.Encode(f))];
        int accepted = 0;
        for (int i = 0; i < iterations; i++)
        {
            byte[] input = SyncFuzz.Mutate(random, valid[random.Next(valid.Length)]);
            try
            {
                if (SyncFrameCodec.TryDecode(input, Limits, out SyncFrame? frame, out SyncDecodeError error))
                {
                    accepted++;
                    SyncFrame again = SyncFrameCodec.Decode(SyncFrameCodec.Encode(frame));
                    Assert.Equal(Describe(frame), Describe(again));
                }
                else
                {
                    Assert.NotEqual(SyncProtocolErrorCode.None, error.Code);
                    Assert.False(string.IsNullOrEmpty(error.Message));
                }
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {seed} (CE_TEST_SEED={seed}) iteration {i}: decoder threw {ex.GetType().Name}: {ex.Message}; input {Convert.ToHexString(input)}");
            }
        }

        Assert.True(accepted > 0, $"seed {seed}: no mutated frame decoded; the fuzzer only tests the checksum");
    }

    internal static string Describe(SyncFrame frame)
    {
        string header = $"{frame.Type} {frame.Fleet}/{frame.Node} from {frame.Sender:X} last={frame.IsLast}";
        static string Ops(IReadOnlyList<SyncOp> ops) => string.Join(";", ops.Select(o => $"{o.Origin:X}:{o.Seq}@{o.Lsn} {o.Hlc:X} {o.Flags} {Convert.ToHexString(o.Payload.Span)}"));
        return frame switch
        {
            UploadBatchFrame u => $"{header} {u.Origin:X} {u.FirstSeq} [{Ops(u.Ops)}]",
            AckFrame a => $"{header} {a.Origin:X} {a.AckedSeq} {a.HeadLsn} {a.LeaderUnixMilliseconds}",
            ResendRequestFrame r => $"{header} {r.Origin:X} {r.FromSeq}",
            PullFrame p => $"{header} {p.AfterLsn} {p.UploadDrained} {p.SnapshotId:X} {p.SnapshotNextChunk} [{string.Join(",", p.VersionVector)}]",
            DownloadBatchFrame d => $"{header} ({d.FromLsn},{d.ToLsn}] {d.HeadLsn} {d.LeaderUnixMilliseconds} [{Ops(d.Ops)}]",
            SnapshotChunkFrame s => $"{header} {s.SnapshotId:X} {s.SnapshotLsn} {s.Index}/{s.Total} {s.TotalBytes} {s.Checksum:X} {Convert.ToHexString(s.Data.Span)}",
            ErrorFrame e => $"{header} {e.Code} {e.Detail} {e.Message}",
            StatusFrame s => $"{header} {s.Kind} {s.HeadLsn} {s.LeaderUnixMilliseconds}",
            _ => header,
        };
    }
}
