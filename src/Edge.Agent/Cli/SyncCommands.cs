using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using CortexEdge.Core;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Agent.Cli;

/// <summary>
/// <c>cortex-edge leader</c> (serves a fleet until SIGTERM/SIGINT) and <c>cortex-edge sync</c> (one
/// round: upload, download, exit 0 once both directions are up to date; <c>--watch</c> keeps
/// syncing). Exit codes: 0 success, 2 bad input, 3 database error, 4 sync refused (node name bound
/// to another name or database, wrong fleet, newer protocol), 5 broker error, 6 round timed out.
/// </summary>
internal static class SyncCommands
{
    private const int ExitRefused = 4;
    private const int ExitBroker = 5;
    private const int ExitTimeout = 6;

    public static IEnumerable<Command> Create()
    {
        yield return CreateLeader();
        yield return CreateSync();
    }

    private sealed class CommonOptions
    {
        public Option<string> Db { get; } = DatabaseCommands.DbOption();

        public Option<string> Broker { get; } = new("--broker") { Description = "MQTT broker as HOST:PORT.", Required = true };

        public Option<string> Fleet { get; } = new("--fleet") { Description = "Fleet (deployment) name used in the sync topics.", Required = true };

        public Option<string?> Username { get; } = new("--username") { Description = "Broker user name." };

        public Option<string?> Password { get; } = new("--password") { Description = "Broker password." };

        public void AddTo(Command command)
        {
            foreach (Option option in new Option[] { Db, Broker, Fleet, Username, Password })
            {
                command.Options.Add(option);
            }
        }

        public MqttClientOptions Client(ParseResult result, string clientId)
        {
            var (host, port) = BrokerAddress.Parse(result.GetValue(Broker)!);
            return new MqttClientOptions
            {
                Host = host,
                Port = port,
                ClientId = clientId,
                Username = result.GetValue(Username),
                Password = result.GetValue(Password),
                ReconnectDelayMin = TimeSpan.FromMilliseconds(100),
                ReconnectDelayMax = TimeSpan.FromSeconds(10),
            };
        }
    }

    private static Command CreateLeader()
    {
        var common = new CommonOptions();
        var command = new Command("leader", "Run the upstream sync leader of a fleet until SIGTERM or SIGINT.");
        var logRetention = new Option<long>("--log-retention")
        {
            Description = "Keep only about this many records of the log for nodes to download (0: the whole log). Nodes that are new or behind the pruned log are bootstrapped from a snapshot.",
            DefaultValueFactory = _ => 0,
        };
        logRetention.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long>() < 0)
            {
                r.AddError("--log-retention must be 0 (keep the whole log) or a positive number of records");
            }
        });
        common.AddTo(command);
        command.Options.Add(logRetention);
        command.SetAction((result, cancellationToken) => Run(result, common, cancellationToken, async (database, output, cancellationToken) =>
        {
            string fleet = result.GetValue(common.Fleet)!;
            long retention = result.GetValue(logRetention);
            var store = new EdgeDatabaseLeaderStore(database) { LogRetentionRecords = retention };
            // With the whole log kept, new nodes replay it; with a retention bound they take a snapshot then deltas.
            await using var leader = new MqttSyncLeader(new MqttClient(common.Client(result, "ce-leader-" + fleet)), store, fleet, new SyncSessionOptions { SnapshotNewNodes = retention > 0 });
            Task serving = leader.RunAsync(cancellationToken);
            string kept = retention > 0 ? $"log retention {retention} records" : "whole log kept";
            await output.WriteLineAsync($"leader serving fleet '{fleet}' on {result.GetValue(common.Broker)} (replica {database.ReplicaId:X16}, {kept})");
            await output.FlushAsync(CancellationToken.None);
            try
            {
                await serving;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await output.WriteLineAsync($"leader stopped: {leader.Session.Counters.OpsApplied} ops applied, head LSN {store.HeadLsn}");
            }

            return 0;
        }));
        return command;
    }

    private static Command CreateSync()
    {
        var common = new CommonOptions();
        var node = new Option<string>("--node") { Description = "This node's name; bound to the database at its first sync.", Required = true };
        var watch = new Option<bool>("--watch") { Description = "Keep syncing (until SIGTERM or SIGINT) instead of one round." };
        var timeout = new Option<double>("--timeout") { Description = "Give up a round after this many seconds (exit 6).", DefaultValueFactory = _ => 300 };
        var command = new Command("sync", "Sync this database with the fleet's leader: upload own ops, download the others', exit 0 when both are up to date.");
        common.AddTo(command);
        command.Options.Add(node);
        command.Options.Add(watch);
        command.Options.Add(timeout);
        command.SetAction((result, cancellationToken) => Run(result, common, cancellationToken, async (database, output, cancellationToken) =>
        {
            string fleet = result.GetValue(common.Fleet)!;
            string name = result.GetValue(node)!;
            bool watching = result.GetValue(watch);
            var options = new SyncSessionOptions { SnapshotNewNodes = false, PollInterval = watching ? TimeSpan.FromSeconds(5) : null };
            var store = new EdgeDatabaseSyncStore(database);
            await using var session = new MqttSyncNode(new MqttClient(common.Client(result, $"ce-node-{fleet}-{name}")), store, fleet, name, options);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, result.GetValue(timeout))));
            try
            {
                SyncStatus status = await session.SyncOnceAsync(SyncScope.All, deadline.Token);
                long snapshots = session.Session.Counters.SnapshotsImported;
                string bootstrap = snapshots > 0 ? $", {snapshots} snapshot(s) imported" : string.Empty;
                await output.WriteLineAsync($"synced node '{name}': uploaded through seq {status.UploadCursor}, downloaded through leader LSN {status.DownloadCursor}, backlog {status.Backlog.TotalOps} ops{bootstrap}");
                await output.FlushAsync(CancellationToken.None);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                SyncStatus status = session.GetStatus();
                throw new TimeoutException($"sync round of node '{name}' did not complete in time: backlog {status.Backlog.TotalOps} ops, last error {status.LastError?.Code}: {status.LastError?.Message}");
            }

            if (watching)
            {
                try
                {
                    await session.RunAsync(cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    await output.WriteLineAsync($"sync of node '{name}' stopped");
                }
            }

            return 0;
        }));
        return command;
    }

    private static async Task<int> Run(ParseResult result, CommonOptions common, CancellationToken cancellationToken, Func<EdgeDatabase, TextWriter, CancellationToken, Task<int>> body)
    {
        TextWriter output = result.InvocationConfiguration.Output;
        TextWriter error = result.InvocationConfiguration.Error;
        // SIGTERM/SIGINT stop the command cleanly (the database is closed and flushed) instead of killing the process.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        try
        {
            // A node keeps its own ops until the leader acknowledges them, from the first open on.
            await using EdgeDatabase database = EdgeDatabase.Open(result.GetValue(common.Db)!, new EdgeDatabaseOptions { RetainUnsyncedOps = true });
            return await body(database, output, stop.Token);
        }
        catch (ArgumentException exception)
        {
            await error.WriteLineAsync($"error: {exception.Message}");
            return DatabaseCommands.ExitBadInput;
        }
        catch (SyncProtocolException exception) when (exception.Code is SyncProtocolErrorCode.StoreFailure)
        {
            await error.WriteLineAsync($"error ({exception.Code}): {exception.Message}");
            return DatabaseCommands.ExitDatabaseError;
        }
        catch (SyncProtocolException exception)
        {
            await error.WriteLineAsync($"error ({exception.Code}): {exception.Message}");
            return ExitRefused;
        }
        catch (MqttException exception)
        {
            await error.WriteLineAsync($"error (broker): {exception.Message}");
            return ExitBroker;
        }
        catch (TimeoutException exception)
        {
            await error.WriteLineAsync($"error (timeout): {exception.Message}");
            return ExitTimeout;
        }
        catch (EdgeException exception)
        {
            await error.WriteLineAsync($"error ({exception.Code}): {exception.Message}");
            return DatabaseCommands.ExitDatabaseError;
        }
        catch (IOException exception)
        {
            await error.WriteLineAsync($"error: {exception.Message}");
            return DatabaseCommands.ExitDatabaseError;
        }
    }
}
