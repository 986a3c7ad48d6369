using CortexEdge.Core.Clocks;
using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

/// <summary>One simulated replica: its id and a hybrid-logical-clock stand-in.</summary>
internal sealed class SimulatedReplica(ulong id)
{
    private ulong _time;

    public ulong Id { get; } = id;

    /// <summary>A timestamp after both this replica's last one and <paramref name="after"/> (the HLC receive rule), with random physical jumps.</summary>
    public HlcTimestamp NextTimestamp(HlcTimestamp after, Random random)
    {
        _time = Math.Max(_time, after.Time) + (ulong)random.Next(1, 4);
        return new HlcTimestamp(_time, Id);
    }
}

/// <summary>
/// How the property tests drive one CRDT type: create, decode, apply a random operation at a
/// replica (returning its delta), and check a converged state against what the schedule did.
/// A model keeps the log of the current schedule; it is used by one test at a time.
/// </summary>
internal abstract class CrdtModel<T>
    where T : class, IDeltaCrdt<T>
{
    public abstract string Name { get; }

    public abstract T Create();

    public abstract T Decode(byte[] encoded);

    /// <summary>Forgets the previous schedule's log.</summary>
    public virtual void BeginSchedule()
    {
    }

    /// <summary>Applies a random operation to <paramref name="state"/> as <paramref name="replica"/> and returns the delta.</summary>
    public abstract T RandomOperation(T state, SimulatedReplica replica, Random random);

    /// <summary>Checks a state every replica converged to against the schedule's log; returns an error or null.</summary>
    public virtual string? CheckConverged(T state) => null;

    protected static string RandomValue(Random random) =>
        random.Next(8) switch
        {
            0 => "",
            1 => "é☃ " + random.Next(3),
            2 => new string('x', random.Next(1, 300)),
            _ => ((char)('a' + random.Next(5))).ToString(),
        };
}

internal sealed class GCounterModel : CrdtModel<GCounter>
{
    private ulong _expected;

    public override string Name => "GCounter";

    public override GCounter Create() => new();

    public override GCounter Decode(byte[] encoded) => GCounter.Decode(encoded);

    public override void BeginSchedule() => _expected = 0;

    public override GCounter RandomOperation(GCounter state, SimulatedReplica replica, Random random)
    {
        ulong amount = random.Next(4) == 0 ? (ulong)random.NextInt64(1, long.MaxValue >> 8) : (ulong)random.Next(0, 5);
        _expected += amount;
        return state.Increment(replica.Id, amount);
    }

    public override string? CheckConverged(GCounter state) =>
        state.Value == _expected ? null : $"counter {state.Value}, expected the sum of increments {_expected}";
}

internal sealed class PnCounterModel : CrdtModel<PnCounter>
{
    private long _expected;

    public override string Name => "PnCounter";

    public override PnCounter Create() => new();

    public override PnCounter Decode(byte[] encoded) => PnCounter.Decode(encoded);

    public override void BeginSchedule() => _expected = 0;

    public override PnCounter RandomOperation(PnCounter state, SimulatedReplica replica, Random random)
    {
        long amount = random.Next(-5, 6);
        _expected += amount;
        return state.Increment(replica.Id, amount);
    }

    public override string? CheckConverged(PnCounter state) =>
        state.Value == _expected ? null : $"counter {state.Value}, expected the sum of updates {_expected}";
}

internal sealed class LwwRegisterModel : CrdtModel<LwwRegister<string>>
{
    private (HlcTimestamp Timestamp, string? Value) _latest;

    public override string Name => "LwwRegister";

    public override LwwRegister<string> Create() => new(CrdtValueCodecs.String);

    public override LwwRegister<string> Decode(byte[] encoded) => LwwRegister<string>.Decode(encoded, CrdtValueCodecs.String);

    public override void BeginSchedule() => _latest = default;

    public override LwwRegister<string> RandomOperation(LwwRegister<string> state, SimulatedReplica replica, Random random)
    {
        HlcTimestamp timestamp = replica.NextTimestamp(state.Timestamp, random);
        string? value = random.Next(6) == 0 ? null : RandomValue(random);
        if (timestamp > _latest.Timestamp)
        {
            _latest = (timestamp, value);
        }

        return value is null ? state.Clear(timestamp) : state.Set(value, timestamp);
    }

    public override string? CheckConverged(LwwRegister<string> state)
    {
        if (state.Timestamp != _latest.Timestamp)
        {
            return $"register at {state.Timestamp}, the latest write was at {_latest.Timestamp}";
        }

        string? actual = state.HasValue ? state.Value : null;
        return actual == _latest.Value ? null : $"register holds '{actual}', the latest write wrote '{_latest.Value}'";
    }
}

internal sealed class MvRegisterModel : CrdtModel<MvRegister<string>>
{
    private readonly HashSet<string> _written = [];

    public override string Name => "MvRegister";

    public override MvRegister<string> Create() => new(CrdtValueCodecs.String);

    public override MvRegister<string> Decode(byte[] encoded) => MvRegister<string>.Decode(encoded, CrdtValueCodecs.String);

    public override void BeginSchedule() => _written.Clear();

    public override MvRegister<string> RandomOperation(MvRegister<string> state, SimulatedReplica replica, Random random)
    {
        if (random.Next(8) == 0)
        {
            return state.Clear();
        }

        string value = RandomValue(random);
        _written.Add(value);
        return state.Write(replica.Id, value);
    }

    public override string? CheckConverged(MvRegister<string> state)
    {
        string? stranger = state.Values.FirstOrDefault(v => !_written.Contains(v));
        return stranger is null ? null : $"sibling '{stranger}' was never written";
    }
}

internal sealed class AddWinsSetModel : CrdtModel<AddWinsSet<string>>
{
    public override string Name => "AddWinsSet";

    public override AddWinsSet<string> Create() => new(CrdtValueCodecs.String);

    public override AddWinsSet<string> Decode(byte[] encoded) => AddWinsSet<string>.Decode(encoded, CrdtValueCodecs.String);

    public override AddWinsSet<string> RandomOperation(AddWinsSet<string> state, SimulatedReplica replica, Random random)
    {
        string element = ((char)('a' + random.Next(6))).ToString();
        return random.Next(10) switch
        {
            < 5 => state.Add(replica.Id, element),
            < 9 => state.Remove(element),
            _ => state.Clear(),
        };
    }
}

internal sealed class OrSetModel : CrdtModel<OrSet<string>>
{
    public override string Name => "OrSet";

    public override OrSet<string> Create() => new(CrdtValueCodecs.String);

    public override OrSet<string> Decode(byte[] encoded) => OrSet<string>.Decode(encoded, CrdtValueCodecs.String);

    public override OrSet<string> RandomOperation(OrSet<string> state, SimulatedReplica replica, Random random)
    {
        string element = ((char)('a' + random.Next(6))).ToString();
        return random.Next(10) switch
        {
            < 5 => state.Add(replica.Id, element),
            < 9 => state.Remove(element),
            _ => state.Clear(),
        };
    }
}

internal sealed class LwwMapModel : CrdtModel<LwwMap<string, long>>
{
    private readonly Dictionary<string, (HlcTimestamp Timestamp, long? Value)> _latest = [];

    public override string Name => "LwwMap";

    public override LwwMap<string, long> Create() => new(CrdtValueCodecs.String, CrdtValueCodecs.Int64);

    public override LwwMap<string, long> Decode(byte[] encoded) => LwwMap<string, long>.Decode(encoded, CrdtValueCodecs.String, CrdtValueCodecs.Int64);

    public override void BeginSchedule() => _latest.Clear();

    public override LwwMap<string, long> RandomOperation(LwwMap<string, long> state, SimulatedReplica replica, Random random)
    {
        string key = "k" + random.Next(4);
        HlcTimestamp timestamp = replica.NextTimestamp(state.GetRegister(key)?.Timestamp ?? HlcTimestamp.Zero, random);
        long? value = random.Next(5) == 0 ? null : random.NextInt64(-1000, 1000);
        if (!_latest.TryGetValue(key, out var latest) || timestamp > latest.Timestamp)
        {
            _latest[key] = (timestamp, value);
        }

        return value is null ? state.Remove(key, timestamp) : state.Set(key, value.Value, timestamp);
    }

    public override string? CheckConverged(LwwMap<string, long> state)
    {
        foreach (var (key, (timestamp, value)) in _latest)
        {
            long? actual = state.TryGetValue(key, out long v) ? v : null;
            if (actual != value || state.GetRegister(key)?.Timestamp != timestamp)
            {
                return $"key {key} holds {actual?.ToString() ?? "nothing"}, the latest write ({timestamp}) wrote {value?.ToString() ?? "a removal"}";
            }
        }

        return state.Count == _latest.Values.Count(l => l.Value is not null) ? null : "map holds keys nobody wrote";
    }
}
