using System.CommandLine;
using System.Globalization;
using CortexEdge.Agent.Cli;
using CortexEdge.Core;
using CortexEdge.Core.Vectors;
using CortexEdge.Core.Wal;

namespace CortexEdge.Agent.Vectors;

/// <summary>
/// <c>cortex-edge vec create|upsert|search|stats</c>: vector collections from the command line.
/// Exit codes as for the document commands: 0 success, 1 not found, 2 bad input, 3 database error.
/// </summary>
internal static class VectorCommands
{
    public static Command Create()
    {
        var command = new Command("vec", "Vector collections: create, upsert, search (nearest neighbours), stats.");
        command.Subcommands.Add(CreateCreate());
        command.Subcommands.Add(CreateUpsert());
        command.Subcommands.Add(CreateSearch());
        command.Subcommands.Add(CreateStats());
        command.Subcommands.Add(CreateWriteLoad());
        return command;
    }

    /// <summary>Collection the <c>vec write-load</c> crash-test driver writes to.</summary>
    internal const string LoadCollection = "vector-load";

    /// <summary>The deterministic vector <c>vec write-load</c> writes for <paramref name="id"/>; tests recompute it.</summary>
    internal static float[] LoadVector(string id, int dimension)
    {
        // FNV-1a of the id seeds the components, so every id gets its own well-spread vector.
        uint hash = 2166136261;
        foreach (char c in id)
        {
            hash = (hash ^ c) * 16777619;
        }

        var random = new Random((int)hash);
        float[] vector = new float[dimension];
        for (int d = 0; d < dimension; d++)
        {
            vector[d] = (float)((random.NextDouble() * 2) - 1);
        }

        return vector;
    }

    /// <summary>Parses "v1,v2,..." (invariant culture); false with a message naming the bad component.</summary>
    internal static bool TryParseVector(string text, out float[] vector, out string? problem)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        vector = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out vector[i]))
            {
                problem = $"component {i} ('{parts[i]}') is not a number";
                return false;
            }
        }

        problem = null;
        return true;
    }

    private static Option<string> MetricOption() =>
        new Option<string>("--metric")
        {
            Description = "Distance: cosine (1 - cos), dot (-a.b) or l2 (squared Euclidean).",
            DefaultValueFactory = _ => "cosine",
        }.AcceptOnlyFromAmong("cosine", "dot", "l2");

    private static VectorMetric ParseMetric(string value) => value switch
    {
        "dot" => VectorMetric.Dot,
        "l2" => VectorMetric.L2,
        _ => VectorMetric.Cosine,
    };

    private static Option<string> VectorOption() => new("--vector")
    {
        Description = "Comma-separated components, e.g. 0.1,0.2,0.3.",
        Required = true,
    };

    private static Command CreateCreate()
    {
        Option<string> db = DatabaseCommands.DbOption();
        Option<string> metric = MetricOption();
        var collection = new Argument<string>("collection") { Description = "Vector collection name." };
        var dimension = new Option<int>("--dimension") { Description = "Components per vector (1..4096).", Required = true };
        var command = new Command("create", "Create a vector collection with a fixed dimension and metric.") { db, collection, dimension, metric };
        command.SetAction((parseResult, cancellationToken) =>
            DatabaseCommands.WithDatabase(parseResult, WalDurability.Always, (database, output) => Guard(parseResult, async () =>
            {
                WriteReceipt receipt = await database.CreateVectorCollectionAsync(
                    parseResult.GetValue(collection)!, parseResult.GetValue(dimension), ParseMetric(parseResult.GetValue(metric)!), cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"ok lsn={receipt.Lsn}").ConfigureAwait(false);
                return 0;
            })));
        return command;
    }

    private static Command CreateUpsert()
    {
        Option<string> db = DatabaseCommands.DbOption();
        Option<string> durability = DatabaseCommands.DurabilityOption();
        Option<string> metric = MetricOption();
        Option<string> vector = VectorOption();
        var collection = new Argument<string>("collection") { Description = "Vector collection name (created with the vector's dimension and --metric when absent)." };
        var id = new Argument<string>("id") { Description = "Vector id." };
        var key = new Option<string>("--key") { Description = "Key of the document the vector belongs to (default: the id)." };
        var command = new Command("upsert", "Insert or replace one vector; exits 0 once the write is acknowledged.")
        {
            db, durability, collection, id, vector, key, metric,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            if (!TryParseVector(parseResult.GetValue(vector)!, out float[] values, out string? problem))
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"error: --vector: {problem}");
                return Task.FromResult(DatabaseCommands.ExitBadInput);
            }

            return DatabaseCommands.WithDatabase(parseResult, DatabaseCommands.ParseDurability(parseResult.GetValue(durability)!), (database, output) => Guard(parseResult, async () =>
            {
                string name = parseResult.GetValue(collection)!;
                string vectorId = parseResult.GetValue(id)!;
                if (!database.GetVectorCollectionNames().Contains(name, StringComparer.Ordinal))
                {
                    await database.CreateVectorCollectionAsync(name, values.Length, ParseMetric(parseResult.GetValue(metric)!), cancellationToken).ConfigureAwait(false);
                }

                WriteReceipt receipt = await database.UpsertVectorAsync(name, vectorId, values, parseResult.GetValue(key) ?? vectorId, cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"ok lsn={receipt.Lsn} hlc={receipt.Header.Timestamp}").ConfigureAwait(false);
                return 0;
            }));
        });
        return command;
    }

    private static Command CreateSearch()
    {
        Option<string> db = DatabaseCommands.DbOption();
        Option<string> vector = VectorOption();
        var collection = new Argument<string>("collection") { Description = "Vector collection name." };
        var k = new Option<int>("--k") { Description = "Results wanted (1..10000).", DefaultValueFactory = _ => 10 };
        var prefix = new Option<string>("--prefix") { Description = "Only vectors whose document key starts with this." };
        var nprobe = new Option<int>("--nprobe") { Description = "Partitions to probe (partitioned collections); 0 = default." };
        var command = new Command("search", "Print the k nearest vectors, one line each: id, a tab, the distance.")
        {
            db, collection, vector, k, prefix, nprobe,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            if (!TryParseVector(parseResult.GetValue(vector)!, out float[] values, out string? problem))
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"error: --vector: {problem}");
                return Task.FromResult(DatabaseCommands.ExitBadInput);
            }

            int count = parseResult.GetValue(k);
            if (count is < 1 or > VectorCollection.KMax)
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"error: --k {count} is outside 1..{VectorCollection.KMax}");
                return Task.FromResult(DatabaseCommands.ExitBadInput);
            }

            return DatabaseCommands.WithDatabase(parseResult, WalDurability.None, (database, output) => Guard(parseResult, async () =>
            {
                var options = new VectorSearchOptions { KeyPrefix = parseResult.GetValue(prefix), Nprobe = Math.Max(0, parseResult.GetValue(nprobe)) };
                foreach (VectorMatch match in database.SearchVectors(parseResult.GetValue(collection)!, values, count, options))
                {
                    await output.WriteLineAsync($"{match.Id}\t{match.Distance.ToString("R", CultureInfo.InvariantCulture)}").ConfigureAwait(false);
                }

                return 0;
            }));
        });
        return command;
    }

    private static Command CreateStats()
    {
        Option<string> db = DatabaseCommands.DbOption();
        var collection = new Argument<string>("collection") { Description = "Vector collection name." };
        var command = new Command("stats", "Print a vector collection's size, shape and index memory.") { db, collection };
        command.SetAction((parseResult, cancellationToken) =>
            DatabaseCommands.WithDatabase(parseResult, WalDurability.None, (database, output) => Guard(parseResult, async () =>
            {
                VectorCollectionStatistics stats = database.GetVectorCollectionStatistics(parseResult.GetValue(collection)!);
                string text = string.Join('\n',
                    $"count           {stats.Count}",
                    $"dimension       {stats.Dimension}",
                    $"metric          {stats.Metric}",
                    $"partitions      {stats.PartitionCount}",
                    $"default_nprobe  {stats.DefaultNprobe}",
                    $"sign_codes      {(stats.SignCodes ? "yes" : "no")}",
                    $"index_bytes     {stats.IndexBytes}",
                    $"file_bytes      {stats.FileBytes}",
                    $"int8_kernel     {stats.Int8KernelPath}");
                await output.WriteLineAsync(text).ConfigureAwait(false);
                return 0;
            })));
        return command;
    }

    private static Command CreateWriteLoad()
    {
        Option<string> db = DatabaseCommands.DbOption();
        Option<string> durability = DatabaseCommands.DurabilityOption();
        var count = new Option<int>("--count") { Description = "Vectors to write.", DefaultValueFactory = _ => 100_000 };
        var dimension = new Option<int>("--dimension") { Description = "Components per vector.", DefaultValueFactory = _ => 32 };
        var writers = new Option<int>("--writers") { Description = "Concurrent writers.", DefaultValueFactory = _ => 4 };
        var prefix = new Option<string>("--prefix") { Description = "Id prefix (make it unique per run).", DefaultValueFactory = _ => "v" };
        var command = new Command("write-load", $"Upsert COUNT deterministic vectors into '{LoadCollection}', printing 'ack ID' as each is acknowledged (crash-test driver).")
        {
            db, durability, count, dimension, writers, prefix,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            int total = parseResult.GetValue(count);
            int writerCount = parseResult.GetValue(writers);
            int size = parseResult.GetValue(dimension);
            if (total < 0 || writerCount < 1 || size is < 1 or > VectorCollectionOptions.DimensionMax)
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"error: --count must be >= 0, --writers >= 1, --dimension in 1..{VectorCollectionOptions.DimensionMax}");
                return Task.FromResult(DatabaseCommands.ExitBadInput);
            }

            string idPrefix = parseResult.GetValue(prefix)!;
            return DatabaseCommands.WithDatabase(parseResult, DatabaseCommands.ParseDurability(parseResult.GetValue(durability)!), (database, output) => Guard(parseResult, async () =>
            {
                await database.CreateVectorCollectionAsync(LoadCollection, size, VectorMetric.L2, cancellationToken).ConfigureAwait(false);
                int next = -1;
                var gate = new Lock();
                async Task Writer()
                {
                    int index;
                    while ((index = Interlocked.Increment(ref next)) < total)
                    {
                        string id = idPrefix + index.ToString(CultureInfo.InvariantCulture);
                        await database.UpsertVectorAsync(LoadCollection, id, LoadVector(id, size), "doc/" + id, cancellationToken).ConfigureAwait(false);
                        lock (gate)
                        {
                            output.WriteLine("ack " + id);
                            output.Flush();
                        }
                    }
                }

                await Task.WhenAll(Enumerable.Range(0, writerCount).Select(_ => Task.Run(Writer, cancellationToken))).ConfigureAwait(false);
                output.WriteLine("done " + total.ToString(CultureInfo.InvariantCulture));
                return 0;
            }));
        });
        return command;
    }

    // Vector input errors are bad input (exit 2) and a missing collection is "not found" (exit 1);
    // every other engine error is left to the shared handler (exit 3).
    private static async Task<int> Guard(ParseResult parseResult, Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (EdgeException exception) when (exception.Code is EdgeErrorCode.VectorInvalid or EdgeErrorCode.VectorCollectionMismatch)
        {
            await parseResult.InvocationConfiguration.Error.WriteLineAsync($"error: {exception.Message}").ConfigureAwait(false);
            return DatabaseCommands.ExitBadInput;
        }
        catch (EdgeException exception) when (exception.Code is EdgeErrorCode.VectorCollectionNotFound)
        {
            await parseResult.InvocationConfiguration.Error.WriteLineAsync($"not found: {exception.Message}").ConfigureAwait(false);
            return DatabaseCommands.ExitNotFound;
        }
    }
}
