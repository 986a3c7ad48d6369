namespace CortexEdge.Core.Tests.Crdt;

/// <summary>Merge laws, convergence and decoder fuzzing for each of the seven CRDT types.</summary>
public sealed class CrdtPropertyTests
{
    private static int LawTrials => CrdtTestEnvironment.Schedules;

    [Fact]
    public void GCounter_MergeLaws_Hold() => CrdtPropertyChecks.MergeLaws(new GCounterModel(), LawTrials);

    [Fact]
    public void PnCounter_MergeLaws_Hold() => CrdtPropertyChecks.MergeLaws(new PnCounterModel(), LawTrials);

    [Fact]
    public void LwwRegister_MergeLaws_Hold() => CrdtPropertyChecks.MergeLaws(new LwwRegisterModel(), LawTrials);

    [Fact]
    public void MvRegister_MergeLaws_Hold() => CrdtPropertyChecks.MergeLaws(new MvRegisterModel(), LawTrials);

    [Fact]
    public void OrSet_MergeLaws_Hold() => CrdtPropertyChecks.MergeLaws(new OrSetModel(), LawTrials);

    [Fact]
    public void AddWinsSet_MergeLaws_Hold() => CrdtPropertyChecks.MergeLaws(new AddWinsSetModel(), LawTrials);

    [Fact]
    public void LwwMap_MergeLaws_Hold() => CrdtPropertyChecks.MergeLaws(new LwwMapModel(), LawTrials);

    [Fact]
    public void GCounter_RandomSchedules_Converge() => CrdtPropertyChecks.Convergence(new GCounterModel(), CrdtTestEnvironment.Schedules);

    [Fact]
    public void PnCounter_RandomSchedules_Converge() => CrdtPropertyChecks.Convergence(new PnCounterModel(), CrdtTestEnvironment.Schedules);

    [Fact]
    public void LwwRegister_RandomSchedules_Converge() => CrdtPropertyChecks.Convergence(new LwwRegisterModel(), CrdtTestEnvironment.Schedules);

    [Fact]
    public void MvRegister_RandomSchedules_Converge() => CrdtPropertyChecks.Convergence(new MvRegisterModel(), CrdtTestEnvironment.Schedules);

    [Fact]
    public void OrSet_RandomSchedules_Converge() => CrdtPropertyChecks.Convergence(new OrSetModel(), CrdtTestEnvironment.Schedules);

    [Fact]
    public void AddWinsSet_RandomSchedules_Converge() => CrdtPropertyChecks.Convergence(new AddWinsSetModel(), CrdtTestEnvironment.Schedules);

    [Fact]
    public void LwwMap_RandomSchedules_Converge() => CrdtPropertyChecks.Convergence(new LwwMapModel(), CrdtTestEnvironment.Schedules);

    [Fact]
    public void GCounter_Decode_MutatedInput_RejectedWithTypedError() => CrdtPropertyChecks.DecoderFuzz(new GCounterModel(), CrdtTestEnvironment.FuzzIterations);

    [Fact]
    public void PnCounter_Decode_MutatedInput_RejectedWithTypedError() => CrdtPropertyChecks.DecoderFuzz(new PnCounterModel(), CrdtTestEnvironment.FuzzIterations);

    [Fact]
    public void LwwRegister_Decode_MutatedInput_RejectedWithTypedError() => CrdtPropertyChecks.DecoderFuzz(new LwwRegisterModel(), CrdtTestEnvironment.FuzzIterations);

    [Fact]
    public void MvRegister_Decode_MutatedInput_RejectedWithTypedError() => CrdtPropertyChecks.DecoderFuzz(new MvRegisterModel(), CrdtTestEnvironment.FuzzIterations);

    [Fact]
    public void OrSet_Decode_MutatedInput_RejectedWithTypedError() => CrdtPropertyChecks.DecoderFuzz(new OrSetModel(), CrdtTestEnvironment.FuzzIterations);

    [Fact]
    public void AddWinsSet_Decode_MutatedInput_RejectedWithTypedError() => CrdtPropertyChecks.DecoderFuzz(new AddWinsSetModel(), CrdtTestEnvironment.FuzzIterations);

    [Fact]
    public void LwwMap_Decode_MutatedInput_RejectedWithTypedError() => CrdtPropertyChecks.DecoderFuzz(new LwwMapModel(), CrdtTestEnvironment.FuzzIterations);
}
