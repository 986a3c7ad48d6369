using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CortexEdge.Core;
using CortexEdge.Core.Documents;
using CortexEdge.Core.Wal;

namespace CortexEdge.Agent.Cli;

/// <summary>
/// Commands over a database directory: <c>put</c>, <c>get</c>, <c>scan</c>, <c>stats</c>,
/// <c>wal verify</c> and the <c>write-load</c> driver of the crash tests. Exit codes:
/// 0 success, 1 not found, 2 bad input (arguments, JSON), 3 database error (locked, faulted, corrupt).
/// </summary>
internal static class DatabaseCommands
{
    public const int ExitNotFound = 1;
    public const int ExitBadInput = 2;
    public const int ExitDatabaseError = 3;

    public static IEnumerable<Command> Create()
    {
        yield return CreatePut();
        yield return CreateGet();
        yield return CreateScan();
        yield return CreateStats();
        yield return CreateWal();
        yield return WriteLoadCommand.Create();
        yield return Vectors.VectorCommands.Create();
    }

    internal static Option<string> DbOption() => new("--db")
    {
        Description = "Database directory (created on first use).",
        Required = true,
    };

    internal static Option<string> DurabilityOption() =>
        new Option<string>("--durability")
        {
            Description = "When a write is acknowledged: none, periodic (10 ms), group (10 ms) or always.",
            DefaultValueFactory = _ => "group",
        }.AcceptOnlyFromAmong("none", "periodic", "group", "always");

    internal static WalDurability ParseDurability(string value) =>
        Daemon.AgentHost.ParseDurability(new Configuration.DurabilityConfig { Mode = value, IntervalMs = 10 });

    /// <summary>Runs <paramref name="body"/> with the database open, mapping errors to exit codes and stderr messages.</summary>
    /// <remarks>
    /// When a running agent holds the directory (it announced itself there), the verb goes through
    /// its local API instead, via <paramref name="viaAgent"/>; verbs without one open the database
    /// and get the lock error.
    /// </remarks>
    internal static async Task<int> WithDatabase(ParseResult parseResult, WalDurability durability, Func<EdgeDatabase, TextWriter, Task<int>> body, Func<AgentClient, Task<(int Status, string Body)>>? viaAgent = null)
    {
        TextWriter output = parseResult.InvocationConfiguration.Output;
        TextWriter error = parseResult.InvocationConfiguration.Error;
        string directory = parseResult.GetValue<string>("--db")!;
        if (viaAgent is not null)
        {
            if (AgentClient.TryConnect(directory, out AgentClient? agent, out string? problem))
            {
                using (agent)
                {
                    return await AgentClient.ReportAsync(await viaAgent(agent!).ConfigureAwait(false), output, error).ConfigureAwait(false);
                }
            }

            if (problem is not null)
            {
                await error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
                return ExitDatabaseError;
            }
        }

        try
        {
            await using EdgeDatabase database = EdgeDatabase.Open(directory, new EdgeDatabaseOptions { Durability = durability });
            return await body(database, output).ConfigureAwait(false);
        }
        catch (EdgeException exception) when (exception.Code is EdgeErrorCode.DocumentInvalid or EdgeErrorCode.DocumentKeyInvalid or EdgeErrorCode.DocumentTooLarge or EdgeErrorCode.QueryInvalid)
        {
            await error.WriteLineAsync($"error: {exception.Message}").ConfigureAwait(false);
            return ExitBadInput;
        }
        catch (EdgeException exception)
        {
            await error.WriteLineAsync($"error ({exception.Code}): {exception.Message}").ConfigureAwait(false);
            return ExitDatabaseError;
        }
        catch (IOException exception)
        {
            await error.WriteLineAsync($"error: {exception.Message}").ConfigureAwait(false);
            return ExitDatabaseError;
        }
        catch (UnauthorizedAccessException exception)
        {
            await error.WriteLineAsync($"error: {exception.Message}").ConfigureAwait(false);
            return ExitDatabaseError;
        }
    }

    private static Command CreatePut()
    {
        Option<string> db = DbOption();
        Option<string> durability = DurabilityOption();
        var collection = new Argument<string>("collection") { Description = "Collection name." };
        var key = new Argument<string>("key") { Description = "Document key." };
        var json = new Argument<string>("json") { Description = "The document: a JSON object." };
        var command = new Command("put", "Store a document; exits 0 only once the write is acknowledged in the chosen durability mode.")
        {
            db, durability, collection, key, json,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            string text = parseResult.GetValue(json)!;
            if (!TryParseObject(text, parseResult.InvocationConfiguration.Error, out JsonDocument? document))
            {
                return Task.FromResult(ExitBadInput);
            }

            return WithDatabase(parseResult, ParseDurability(parseResult.GetValue(durability)!), async (database, output) =>
            {
                using (document)
                {
                    WriteReceipt receipt = await database.PutAsync(parseResult.GetValue(collection)!, parseResult.GetValue(key)!, document.RootElement, cancellationToken).ConfigureAwait(false);
                    await output.WriteLineAsync($"ok lsn={receipt.Lsn} hlc={receipt.Header.Timestamp}").ConfigureAwait(false);
                    return 0;
                }
            }, agent => agent.SendAsync(HttpMethod.Put, DocumentPath(parseResult.GetValue(collection)!, parseResult.GetValue(key)!), text, cancellationToken));
        });
        return command;
    }

    private static string DocumentPath(string collection, string key) => $"v1/docs/{Uri.EscapeDataString(collection)}/{Uri.EscapeDataString(key)}";

    private static Command CreateGet()
    {
        Option<string> db = DbOption();
        var collection = new Argument<string>("collection") { Description = "Collection name." };
        var key = new Argument<string>("key") { Description = "Document key." };
        var command = new Command("get", "Print a document as JSON; exit 1 when it is absent.") { db, collection, key };
        command.SetAction((parseResult, cancellationToken) =>
            WithDatabase(parseResult, WalDurability.None, async (database, output) =>
            {
                string collectionName = parseResult.GetValue(collection)!;
                string keyName = parseResult.GetValue(key)!;
                EdgeDocument? document = database.Get(collectionName, keyName);
                if (document is null)
                {
                    await parseResult.InvocationConfiguration.Error.WriteLineAsync($"not found: '{keyName}' in collection '{collectionName}'").ConfigureAwait(false);
                    return ExitNotFound;
                }

                await output.WriteLineAsync(document.ToJsonString()).ConfigureAwait(false);
                return 0;
            }, agent => agent.SendAsync(HttpMethod.Get, DocumentPath(parseResult.GetValue(collection)!, parseResult.GetValue(key)!), null, cancellationToken)));
        return command;
    }

    private static Command CreateScan()
    {
        Option<string> db = DbOption();
        var collection = new Argument<string>("collection") { Description = "Collection name." };
        var prefix = new Option<string>("--prefix") { Description = "Only keys starting with this." };
        var where = new Option<string[]>("--where")
        {
            Description = "Field condition FIELD=VALUE (also !=, <, <=, >, >=); VALUE is a JSON literal or else a string. Repeat for AND.",
            AllowMultipleArgumentsPerToken = false,
        };
        var limit = new Option<int?>("--limit") { Description = "Most documents to print." };
        var command = new Command("scan", "Print the documents of a collection in key order, one JSON line each: {\"key\":...,\"doc\":...}.")
        {
            db, collection, prefix, where, limit,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var filters = new List<DocumentFilter>();
            foreach (string condition in parseResult.GetValue(where) ?? [])
            {
                if (!TryParseCondition(condition, out DocumentFilter? filter, out string? problem))
                {
                    parseResult.InvocationConfiguration.Error.WriteLine($"error: --where '{condition}': {problem}");
                    return Task.FromResult(ExitBadInput);
                }

                filters.Add(filter);
            }

            int? count = parseResult.GetValue(limit);
            if (count is < 0)
            {
                parseResult.InvocationConfiguration.Error.WriteLine("error: --limit must not be negative");
                return Task.FromResult(ExitBadInput);
            }

            return WithDatabase(parseResult, WalDurability.None, async (database, output) =>
            {
                var query = new DocumentQuery { KeyPrefix = parseResult.GetValue(prefix) ?? "", Filters = filters, Limit = count ?? int.MaxValue };
                foreach (EdgeDocument document in database.Scan(parseResult.GetValue(collection)!, query))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await output.WriteLineAsync($"{{\"key\":{JsonEncodedString(document.Key)},\"doc\":{document.ToJsonString()}}}").ConfigureAwait(false);
                }

                return 0;
            });
        });
        return command;
    }

    private static Command CreateStats()
    {
        Option<string> db = DbOption();
        var command = new Command("stats", "Print the database's counters (replica id, LSNs, checkpoint, WAL size).") { db };
        command.SetAction((parseResult, cancellationToken) =>
            WithDatabase(parseResult, WalDurability.None, async (database, output) =>
            {
                EdgeDatabaseStats stats = database.GetStats();
                string text = string.Join('\n',
                    $"replica_id        {stats.ReplicaId:x16}",
                    $"first_lsn         {stats.FirstLsn}",
                    $"last_lsn          {stats.LastLsn}",
                    $"durable_lsn       {stats.DurableLsn}",
                    $"checkpoint_lsn    {stats.CheckpointLsn}",
                    $"wal_segments      {stats.WalSegmentCount}",
                    $"wal_used_bytes    {stats.WalUsedBytes}",
                    $"wal_quota_bytes   {stats.WalQuotaBytes}",
                    $"origin_sequence   {stats.OriginSequence}",
                    $"replayed_records  {stats.ReplayedRecordCount}",
                    $"recovered_records {stats.Recovery.RecordCount}",
                    $"torn_tail_bytes   {stats.Recovery.TruncatedBytes}",
                    $"overlay_documents {stats.OverlayDocumentCount}");
                foreach (KeyValuePair<string, CortexEdge.Core.Documents.CollectionConflictStats> conflicts in stats.Conflicts.OrderBy(c => c.Key, StringComparer.Ordinal))
                {
                    text += $"\nconflicts         {conflicts.Key} discarded_writes={conflicts.Value.DiscardedWrites} siblings_created={conflicts.Value.SiblingsCreated} remote_ops={conflicts.Value.RemoteOperations}";
                }

                await output.WriteLineAsync(text).ConfigureAwait(false);
                return 0;
            }));
        return command;
    }

    private static Command CreateWal()
    {
        Option<string> db = DbOption();
        var verify = new Command("verify", "Check every WAL record (length, CRC, LSN) without changing anything; exit 0 if clean, else 3 naming segment and offset.") { db };
        verify.SetAction(parseResult =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            string walDirectory = Path.Combine(parseResult.GetValue(db)!, EdgeDatabase.WalDirectoryName);
            if (!Directory.Exists(walDirectory))
            {
                error.WriteLine($"error: no WAL at '{walDirectory}'");
                return ExitDatabaseError;
            }

            try
            {
                WalVerifyResult result = WriteAheadLog.Verify(walDirectory);
                if (result.Corruption is { } corruption)
                {
                    error.WriteLine($"corrupt: segment {corruption.SegmentFileName} offset {corruption.Offset}: {corruption.Reason}");
                    return ExitDatabaseError;
                }

                output.WriteLine($"clean: {result.SegmentCount} segments, {result.RecordCount} records, LSN {result.FirstLsn}..{result.LastLsn}" +
                    (result.TornTailBytes > 0 ? $", torn tail of {result.TornTailBytes} bytes at {result.TornTailLocation} (cut on next open)" : ""));
                return 0;
            }
            catch (EdgeException exception)
            {
                error.WriteLine($"error ({exception.Code}): {exception.Message}");
                return ExitDatabaseError;
            }
        });
        Option<string> salvageDb = DbOption();
        var yes = new Option<bool>("--yes") { Description = "Confirm: records from the first damaged one on are dropped." };
        var salvage = new Command("salvage", "Operator repair of mid-log corruption: keep the records before the damage, drop the rest, raise the log epoch. Needs --yes.")
        {
            salvageDb, yes,
        };
        salvage.SetAction(parseResult =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            string directory = parseResult.GetValue(salvageDb)!;
            string walDirectory = Path.Combine(directory, EdgeDatabase.WalDirectoryName);
            if (!Directory.Exists(walDirectory))
            {
                error.WriteLine($"error: no WAL at '{walDirectory}'");
                return ExitDatabaseError;
            }

            try
            {
                using CortexEdge.Core.State.DirectoryLock directoryLock = CortexEdge.Core.State.DirectoryLock.Acquire(directory);
                if (!parseResult.GetValue(yes))
                {
                    WalVerifyResult check = WriteAheadLog.Verify(walDirectory);
                    error.WriteLine(check.Corruption is { } found
                        ? $"would drop every record from segment {found.SegmentFileName} offset {found.Offset} on ({found.Reason}); run again with --yes to do it"
                        : "the WAL is clean: nothing to salvage");
                    return check.Corruption is null ? 0 : ExitBadInput;
                }

                WalSalvageResult result = WriteAheadLog.Salvage(walDirectory);
                output.WriteLine(result.Corruption is { } corruption
                    ? $"salvaged: kept LSN ..{result.LastKeptLsn}, dropped {result.DroppedBytes} bytes in {corruption.SegmentFileName} from offset {corruption.Offset} and {result.DroppedSegmentCount} later segments; log epoch {result.LogEpoch}"
                    : "the WAL is clean: nothing changed");
                return 0;
            }
            catch (EdgeException exception)
            {
                error.WriteLine($"error ({exception.Code}): {exception.Message}");
                return ExitDatabaseError;
            }
        });
        return new Command("wal", "Write-ahead log tools.") { verify, salvage };
    }

    internal static bool TryParseObject(string text, TextWriter error, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JsonDocument? document)
    {
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException exception)
        {
            error.WriteLine($"error: the document is not valid JSON: {exception.Message}");
            document = null;
            return false;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            error.WriteLine($"error: the document must be a JSON object, not {document.RootElement.ValueKind}");
            document.Dispose();
            document = null;
            return false;
        }

        return true;
    }

    /// <summary>Parses FIELD=VALUE, FIELD!=VALUE, FIELD&lt;VALUE, FIELD&lt;=VALUE, FIELD&gt;VALUE, FIELD&gt;=VALUE.</summary>
    internal static bool TryParseCondition(string condition, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DocumentFilter? filter, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem)
    {
        filter = null;
        int index = condition.IndexOfAny(['=', '!', '<', '>']);
        if (index <= 0)
        {
            problem = "expected FIELD=VALUE (or !=, <, <=, >, >=) with a non-empty field";
            return false;
        }

        string field = condition[..index];
        string rest = condition[index..];
        (DocumentFilterOperator op, int length) = rest switch
        {
            _ when rest.StartsWith(">=", StringComparison.Ordinal) => (DocumentFilterOperator.GreaterThanOrEqual, 2),
            _ when rest.StartsWith("<=", StringComparison.Ordinal) => (DocumentFilterOperator.LessThanOrEqual, 2),
            _ when rest.StartsWith("!=", StringComparison.Ordinal) => (DocumentFilterOperator.NotEqual, 2),
            _ when rest.StartsWith('>') => (DocumentFilterOperator.GreaterThan, 1),
            _ when rest.StartsWith('<') => (DocumentFilterOperator.LessThan, 1),
            _ when rest.StartsWith('=') => (DocumentFilterOperator.Equal, 1),
            _ => ((DocumentFilterOperator)(-1), 0),
        };
        if (length == 0)
        {
            problem = $"unknown operator in '{rest}'";
            return false;
        }

        string value = rest[length..];
        string json = IsJsonLiteral(value) ? value : JsonEncodedString(value);
        try
        {
            filter = DocumentFilter.Create(field, op, json);
            problem = null;
            return true;
        }
        catch (EdgeException exception)
        {
            problem = exception.Message;
            return false;
        }
    }

    private static bool IsJsonLiteral(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        try
        {
            using JsonDocument parsed = JsonDocument.Parse(value);
            return parsed.RootElement.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array) || value.StartsWith('{') || value.StartsWith('[');
        }
        catch (JsonException)
        {
            return false;
        }
    }

    internal static string JsonEncodedString(string value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStringValue(value);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
