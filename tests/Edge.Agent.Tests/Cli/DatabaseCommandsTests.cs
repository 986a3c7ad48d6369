using System.CommandLine;
using CortexEdge.Agent.Cli;
using CortexEdge.Core.Platform;

namespace CortexEdge.Agent.Tests.Cli;

public sealed class DatabaseCommandsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ce-cli-" + Guid.NewGuid().ToString("N"));

    public DatabaseCommandsTests() => NativeLibraryResolver.Initialize();

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        int exitCode = EdgeCommandLine.Create().Parse(args).Invoke(configuration);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("none")]
    [InlineData("periodic")]
    [InlineData("group")]
    [InlineData("always")]
    public void Put_ThenGet_PrintsTheDocument_InEveryDurabilityMode(string durability)
    {
        var put = Run("put", "--db", _directory, "sensors", "s1", "{\"temp\":21.5,\"room\":\"kitchen\"}", "--durability", durability);
        Assert.True(put.ExitCode == 0, put.Error);
        Assert.StartsWith("ok lsn=", put.Output);
        var get = Run("get", "--db", _directory, "sensors", "s1");
        Assert.Equal(0, get.ExitCode);
        Assert.Equal("{\"room\":\"kitchen\",\"temp\":21.5}", get.Output.Trim());
    }

    [Fact]
    public void Get_Absent_Exits1WithMessageOnStderr()
    {
        var get = Run("get", "--db", _directory, "sensors", "missing");
        Assert.Equal(1, get.ExitCode);
        Assert.Contains("not found", get.Error);
        Assert.Contains("missing", get.Error);
        Assert.Equal("", get.Output);
    }

    [Fact]
    public void Scan_WithPrefixAndWhere_PrintsMatchingDocumentsInKeyOrder()
    {
        Assert.Equal(0, Run("put", "--db", _directory, "s", "room/2", "{\"temp\":25,\"room\":\"kitchen\"}").ExitCode);
        Assert.Equal(0, Run("put", "--db", _directory, "s", "room/1", "{\"temp\":18,\"room\":\"kitchen\"}").ExitCode);
        Assert.Equal(0, Run("put", "--db", _directory, "s", "hall/1", "{\"temp\":30,\"room\":\"hall\"}").ExitCode);
        var byRoom = Run("scan", "--db", _directory, "s", "--prefix", "room/", "--where", "room=kitchen");
        Assert.Equal(0, byRoom.ExitCode);
        Assert.Equal(
            "{\"key\":\"room/1\",\"doc\":{\"room\":\"kitchen\",\"temp\":18}}\n{\"key\":\"room/2\",\"doc\":{\"room\":\"kitchen\",\"temp\":25}}",
            byRoom.Output.Trim().ReplaceLineEndings("\n"));
        var warm = Run("scan", "--db", _directory, "s", "--where", "temp>=25");
        Assert.Equal(["hall/1", "room/2"], warm.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('"')[3]));
    }

    [Fact]
    public void BadJsonAndBadArguments_GiveClearErrors()
    {
        var badJson = Run("put", "--db", _directory, "c", "k", "{bad");
        Assert.Equal(DatabaseCommands.ExitBadInput, badJson.ExitCode);
        Assert.Contains("not valid JSON", badJson.Error);
        var notObject = Run("put", "--db", _directory, "c", "k", "[1,2]");
        Assert.Equal(DatabaseCommands.ExitBadInput, notObject.ExitCode);
        Assert.Contains("JSON object", notObject.Error);
        var badDurability = Run("put", "--db", _directory, "c", "k", "{}", "--durability", "sometimes");
        Assert.NotEqual(0, badDurability.ExitCode);
        Assert.Contains("sometimes", badDurability.Error);
        var badWhere = Run("scan", "--db", _directory, "c", "--where", "=x");
        Assert.Equal(DatabaseCommands.ExitBadInput, badWhere.ExitCode);
        Assert.Contains("--where", badWhere.Error);
        var noDb = Run("get", "c", "k");
        Assert.NotEqual(0, noDb.ExitCode);
        Assert.Contains("--db", noDb.Error);
    }

    [Fact]
    public void Stats_PrintsCounters()
    {
        Assert.Equal(0, Run("put", "--db", _directory, "c", "k", "{}").ExitCode);
        var stats = Run("stats", "--db", _directory);
        Assert.Equal(0, stats.ExitCode);
        Assert.Matches(@"(?m)^replica_id +[0-9a-f]{16}$", stats.Output);
        Assert.Matches(@"(?m)^last_lsn +1$", stats.Output);
        Assert.Matches(@"(?m)^origin_sequence +1$", stats.Output);
    }

    [Fact]
    public void WalVerify_CleanLogExits0_CorruptRecordExitsNonZeroNamingSegmentAndOffset()
    {
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(0, Run("put", "--db", _directory, "c", $"k{i}", $"{{\"i\":{i}}}").ExitCode);
        }

        var clean = Run("wal", "verify", "--db", _directory);
        Assert.True(clean.ExitCode == 0, clean.Error);
        Assert.Contains("clean", clean.Output);
        Assert.Contains("5 records", clean.Output);

        string segment = Directory.GetFiles(Path.Combine(_directory, "wal"), "*.wal").Single();
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 64 + 40; // inside the first record (after the 64-byte segment header)
            int b = file.ReadByte();
            file.Position = 64 + 40;
            file.WriteByte((byte)(b ^ 0x10));
        }

        var corrupt = Run("wal", "verify", "--db", _directory);
        Assert.Equal(DatabaseCommands.ExitDatabaseError, corrupt.ExitCode);
        Assert.Contains(Path.GetFileName(segment), corrupt.Error);
        Assert.Contains("offset 64", corrupt.Error);

        var open = Run("get", "--db", _directory, "c", "k4");
        Assert.Equal(DatabaseCommands.ExitDatabaseError, open.ExitCode); // refuses to open, never skips
        Assert.Contains("corrupt", open.Error, StringComparison.OrdinalIgnoreCase);

        var unconfirmed = Run("wal", "salvage", "--db", _directory);
        Assert.Equal(DatabaseCommands.ExitBadInput, unconfirmed.ExitCode);
        Assert.Contains("--yes", unconfirmed.Error);
        Assert.Equal(DatabaseCommands.ExitDatabaseError, Run("wal", "verify", "--db", _directory).ExitCode); // nothing changed yet
        var salvaged = Run("wal", "salvage", "--db", _directory, "--yes");
        Assert.True(salvaged.ExitCode == 0, salvaged.Error);
        Assert.Contains("salvaged", salvaged.Output);
        Assert.Equal(0, Run("wal", "verify", "--db", _directory).ExitCode);

        // Every put was checkpointed when its command closed the database: the state still has them all.
        var afterSalvage = Run("get", "--db", _directory, "c", "k4");
        Assert.True(afterSalvage.ExitCode == 0, afterSalvage.Error);
        Assert.Equal("{\"i\":4}", afterSalvage.Output.Trim());
        Assert.Equal(0, Run("put", "--db", _directory, "c", "k5", "{}").ExitCode);
        Assert.Matches(@"(?m)^last_lsn +6$", Run("stats", "--db", _directory).Output);
    }
}
