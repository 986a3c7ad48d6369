using System.Buffers;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

public sealed class CrdtEncodingTests
{
    private const ulong ReplicaA = 0xA1A2A3A4A5A6A7A8;
    private const ulong ReplicaB = 0x0102030405060708;

    [Theory]
    [InlineData(0UL)]
    [InlineData(127UL)]
    [InlineData(128UL)]
    [InlineData(16_383UL)]
    [InlineData(1UL << 62)]
    [InlineData(ulong.MaxValue)]
    public void VarUInt64_RoundTripsEdgeValues(ulong value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new CrdtWriter(buffer).WriteVarUInt64(value);
        var reader = new CrdtReader(buffer.WrittenSpan);
        Assert.Equal(value, reader.ReadVarUInt64());
        reader.ReadEnd();
    }

    [Theory]
    [InlineData(long.MinValue)]
    [InlineData(-1L)]
    [InlineData(0L)]
    [InlineData(63L)]
    [InlineData(long.MaxValue)]
    public void VarInt64_RoundTripsEdgeValues(long value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new CrdtWriter(buffer).WriteVarInt64(value);
        var reader = new CrdtReader(buffer.WrittenSpan);
        Assert.Equal(value, reader.ReadVarInt64());
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x00 }, "overlong")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02 }, "overflows")]
    [InlineData(new byte[] { 0xFF }, "truncated")]
    public void ReadVarUInt64_BadInput_ThrowsMalformedNamingTheProblem(byte[] input, string expected)
    {
        var error = Assert.Throws<EdgeException>(() =>
        {
            var reader = new CrdtReader(input);
            reader.ReadVarUInt64();
        });
        Assert.Equal(EdgeErrorCode.CrdtMalformed, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("offset 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_EveryTruncationOfEveryType_IsRejected()
    {
        foreach ((string name, byte[] encoded, Action<byte[]> decode) in SampleEncodings())
        {
            decode(encoded);
            for (int length = 0; length < encoded.Length; length++)
            {
                var error = Assert.Throws<EdgeException>(() => decode(encoded[..length]));
                Assert.True(error.Code == EdgeErrorCode.CrdtMalformed, $"{name} truncated to {length} bytes: {error.Code}");
            }
        }
    }

    [Fact]
    public void Decode_UnknownFormatVersion_SaysSo()
    {
        byte[] encoded = CrdtEncoding.ToArray(new GCounter());
        encoded[0] = 2;
        var error = Assert.Throws<EdgeException>(() => GCounter.Decode(encoded));
        Assert.Contains("format version 2 is not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_AnotherKind_NamesBoth()
    {
        byte[] encoded = CrdtEncoding.ToArray(new PnCounter());
        Assert.Equal(CrdtKind.PnCounter, CrdtEncoding.PeekKind(encoded));
        var error = Assert.Throws<EdgeException>(() => GCounter.Decode(encoded));
        Assert.Contains("holds a PnCounter, expected a GCounter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_InvalidUtf8String_IsRejected()
    {
        var register = new LwwRegister<string>(CrdtValueCodecs.String);
        register.Set("ab", new HlcTimestamp(5, ReplicaA));
        byte[] encoded = CrdtEncoding.ToArray(register);
        encoded[^1] = 0xFF;
        var error = Assert.Throws<EdgeException>(() => LwwRegister<string>.Decode(encoded, CrdtValueCodecs.String));
        Assert.Equal(EdgeErrorCode.CrdtMalformed, error.Code);
        Assert.Contains("UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_SetElementDotOutsideContext_IsRejected()
    {
        var set = new AddWinsSet<string>(CrdtValueCodecs.String);
        set.Add(ReplicaA, "x");
        byte[] encoded = CrdtEncoding.ToArray(set);
        encoded[^1] = 2; // the element's dot counter 1 -> 2, which the context does not hold
        var error = Assert.Throws<EdgeException>(() => AddWinsSet<string>.Decode(encoded, CrdtValueCodecs.String));
        Assert.Contains("not in the set's causal context", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_SameStateBuiltInDifferentOrders_GivesIdenticalBytes()
    {
        var first = new LwwMap<string, long>(CrdtValueCodecs.String, CrdtValueCodecs.Int64);
        var second = new LwwMap<string, long>(CrdtValueCodecs.String, CrdtValueCodecs.Int64);
        LwwMap<string, long> d1 = first.Set("z", 1, new HlcTimestamp(1, ReplicaA));
        LwwMap<string, long> d2 = first.Set("a", 2, new HlcTimestamp(2, ReplicaA));
        second.Merge(d2);
        second.Merge(d1);
        Assert.Equal(CrdtEncoding.ToArray(first), CrdtEncoding.ToArray(second));
    }

    private static IEnumerable<(string Name, byte[] Encoded, Action<byte[]> Decode)> SampleEncodings()
    {
        var g = new GCounter();
        g.Increment(ReplicaA, 300);
        g.Increment(ReplicaB, 1);
        yield return ("GCounter", CrdtEncoding.ToArray(g), b => GCounter.Decode(b));

        var pn = new PnCounter();
        pn.Increment(ReplicaA, -70_000);
        yield return ("PnCounter", CrdtEncoding.ToArray(pn), b => PnCounter.Decode(b));

        var lww = new LwwRegister<string>(CrdtValueCodecs.String);
        lww.Set("first", new HlcTimestamp(1000, ReplicaA));
        lww.Set("second", new HlcTimestamp(2000, ReplicaB));
        yield return ("LwwRegister", CrdtEncoding.ToArray(lww), b => LwwRegister<string>.Decode(b, CrdtValueCodecs.String));

        var mv = new MvRegister<string>(CrdtValueCodecs.String);
        var mvOther = new MvRegister<string>(CrdtValueCodecs.String);
        mv.Write(ReplicaA, "a");
        mv.Merge(mvOther.Write(ReplicaB, "b"));
        yield return ("MvRegister", CrdtEncoding.ToArray(mv), b => MvRegister<string>.Decode(b, CrdtValueCodecs.String));

        var or = new OrSet<string>(CrdtValueCodecs.String);
        or.Add(ReplicaA, "x");
        or.Add(ReplicaA, "y");
        or.Remove("x");
        yield return ("OrSet", CrdtEncoding.ToArray(or), b => OrSet<string>.Decode(b, CrdtValueCodecs.String));

        var aw = new AddWinsSet<byte[]>(CrdtValueCodecs.Bytes);
        aw.Add(ReplicaA, [1, 2, 3]);
        aw.Add(ReplicaB, []);
        yield return ("AddWinsSet", CrdtEncoding.ToArray(aw), b => AddWinsSet<byte[]>.Decode(b, CrdtValueCodecs.Bytes));

        var map = new LwwMap<string, long>(CrdtValueCodecs.String, CrdtValueCodecs.Int64);
        map.Set("k", -5, new HlcTimestamp(10, ReplicaA));
        map.Remove("j", new HlcTimestamp(11, ReplicaA));
        yield return ("LwwMap", CrdtEncoding.ToArray(map), b => LwwMap<string, long>.Decode(b, CrdtValueCodecs.String, CrdtValueCodecs.Int64));
    }
}
