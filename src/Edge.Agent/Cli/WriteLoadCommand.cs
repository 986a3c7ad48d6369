using System.CommandLine;
using System.Globalization;
using CortexEdge.Core;

namespace CortexEdge.Agent.Cli;

/// <summary>
/// <c>write-load</c>: writes documents <c>{PREFIX}{i}</c> = <c>{"n": i, "v": "value-{PREFIX}{i}"}</c> to collection
/// <c>load</c> from several concurrent writers and prints <c>ack KEY</c> for each once it is acknowledged
/// in the chosen durability mode (stdout is flushed per line). The crash tests kill it with SIGKILL at
/// random moments and check that every printed key survived with its value.
/// </summary>
internal static class WriteLoadCommand
{
    public const string Collection = "load";

    public static Command Create()
    {
        Option<string> db = DatabaseCommands.DbOption();
        Option<string> durability = DatabaseCommands.DurabilityOption();
        var count = new Option<int>("--count") { Description = "Documents to write.", DefaultValueFactory = _ => 100_000 };
        var writers = new Option<int>("--writers") { Description = "Concurrent writers.", DefaultValueFactory = _ => 4 };
        var prefix = new Option<string>("--prefix") { Description = "Key prefix (make it unique per run).", DefaultValueFactory = _ => "k" };
        var command = new Command("write-load", "Write COUNT documents and print 'ack KEY' as each is acknowledged (crash-test driver).")
        {
            db, durability, count, writers, prefix,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            int total = parseResult.GetValue(count);
            int writerCount = parseResult.GetValue(writers);
            if (total < 0 || writerCount < 1)
            {
                parseResult.InvocationConfiguration.Error.WriteLine("error: --count must be >= 0 and --writers >= 1");
                return Task.FromResult(DatabaseCommands.ExitBadInput);
            }

            string keyPrefix = parseResult.GetValue(prefix)!;
            return DatabaseCommands.WithDatabase(parseResult, DatabaseCommands.ParseDurability(parseResult.GetValue(durability)!), async (database, output) =>
            {
                int next = -1;
                var gate = new Lock();
                async Task Writer()
                {
                    int index;
                    while ((index = Interlocked.Increment(ref next)) < total)
                    {
                        string key = keyPrefix + index.ToString(CultureInfo.InvariantCulture);
                        await database.PutAsync(Collection, key, ValueJson(keyPrefix, index), cancellationToken).ConfigureAwait(false);
                        lock (gate)
                        {
                            output.WriteLine("ack " + key);
                            output.Flush();
                        }
                    }
                }

                await Task.WhenAll(Enumerable.Range(0, writerCount).Select(_ => Task.Run(Writer, cancellationToken))).ConfigureAwait(false);
                output.WriteLine("done " + total.ToString(CultureInfo.InvariantCulture));
                return 0;
            });
        });
        return command;
    }

    /// <summary>The JSON written for key number <paramref name="index"/>; tests recompute it to check values.</summary>
    public static string ValueJson(string prefix, int index) =>
        $"{{\"n\":{index.ToString(CultureInfo.InvariantCulture)},\"v\":\"value-{prefix}{index.ToString(CultureInfo.InvariantCulture)}\"}}";
}
