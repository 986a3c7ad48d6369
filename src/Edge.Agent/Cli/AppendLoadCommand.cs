using System.CommandLine;
using System.Globalization;
using CortexEdge.Core.TimeSeries;

namespace CortexEdge.Agent.Cli;

/// <summary>
/// <c>append-load</c>: each of several concurrent writers appends batches of readings to its own
/// series <c>{PREFIX}{w}</c>, continuing after the last reading the series already holds, and prints
/// <c>ack SERIES FIRST COUNT</c> once a batch is acknowledged in the chosen durability mode (stdout
/// flushed per line). Reading number i of every series is (<see cref="Timestamp"/>(i),
/// <see cref="Value"/>(i)). The crash tests kill it with SIGKILL at random moments and check that
/// each series holds exactly readings 0..n−1, whole batches only, n covering every acknowledged one.
/// </summary>
internal static class AppendLoadCommand
{
    /// <summary>Timestamp of reading 0.</summary>
    public const long StartMs = 1_700_000_000_000;

    // One reading a minute: a chunk (2 h span by default) closes every 120 readings, so runs cross
    // chunk closes and checkpoints, and the open head chunk is rebuilt from the WAL after each kill.
    private const long StepMs = 60_000;

    public static Command Create()
    {
        Option<string> db = DatabaseCommands.DbOption();
        Option<string> durability = DatabaseCommands.DurabilityOption();
        var batches = new Option<int>("--batches") { Description = "Batches per writer.", DefaultValueFactory = _ => 10_000 };
        var batchSize = new Option<int>("--batch") { Description = "Readings per batch (one WAL record).", DefaultValueFactory = _ => 20 };
        var writers = new Option<int>("--writers") { Description = "Concurrent writers, one series each.", DefaultValueFactory = _ => 2 };
        var prefix = new Option<string>("--prefix") { Description = "Series name prefix.", DefaultValueFactory = _ => "load/" };
        var command = new Command("append-load", "Append batches of readings and print 'ack SERIES FIRST COUNT' as each is acknowledged (crash-test driver).")
        {
            db, durability, batches, batchSize, writers, prefix,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            int batchCount = parseResult.GetValue(batches);
            int size = parseResult.GetValue(batchSize);
            int writerCount = parseResult.GetValue(writers);
            if (batchCount < 0 || size is < 1 or > TimeSeriesLimits.BatchReadingsMax || writerCount < 1)
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"error: --batches must be >= 0, --batch in 1..{TimeSeriesLimits.BatchReadingsMax} and --writers >= 1");
                return Task.FromResult(DatabaseCommands.ExitBadInput);
            }

            string seriesPrefix = parseResult.GetValue(prefix)!;
            return DatabaseCommands.WithDatabase(parseResult, DatabaseCommands.ParseDurability(parseResult.GetValue(durability)!), async (database, output) =>
            {
                var gate = new Lock();
                async Task Writer(int writer)
                {
                    string series = seriesPrefix + writer.ToString(CultureInfo.InvariantCulture);
                    long next = database.TryGetSeries(series, out TimeSeriesInfo info) ? ((info.LastTimestamp - StartMs) / StepMs) + 1 : 0;
                    var readings = new TimeSeriesReading[size];
                    for (int batch = 0; batch < batchCount; batch++, next += size)
                    {
                        for (int i = 0; i < size; i++)
                        {
                            readings[i] = new TimeSeriesReading(Timestamp(next + i), Value(next + i));
                        }

                        await database.AppendAsync(series, readings, cancellationToken).ConfigureAwait(false);
                        lock (gate)
                        {
                            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {series} {next} {size}"));
                            output.Flush();
                        }
                    }
                }

                await Task.WhenAll(Enumerable.Range(0, writerCount).Select(w => Task.Run(() => Writer(w), cancellationToken))).ConfigureAwait(false);
                output.WriteLine("done");
                return 0;
            });
        });
        return command;
    }

    /// <summary>Timestamp of reading number <paramref name="index"/> of a series.</summary>
    public static long Timestamp(long index) => StartMs + (index * StepMs);

    /// <summary>Value of reading number <paramref name="index"/>: decimal sensor values, with a NaN now and then (kept bit-exact).</summary>
    public static double Value(long index) => index % 101 == 100 ? double.NaN : Math.Round(20 + (index % 50 * 0.1), 1);
}
