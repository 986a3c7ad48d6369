using System.CommandLine;
using System.Globalization;
using CortexEdge.Core;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Agent.Cli;

/// <summary>
/// `cortex-edge fleet status` (presence of every node, from the broker's retained presence) and
/// `cortex-edge sync verify` (anti-entropy between two database directories, e.g. a stopped node's
/// state and the leader's backup).
/// </summary>
internal static class FleetCommands
{
    private const int ExitError = 1;
    private const int ExitDiverged = 3;

    /// <summary>Adds `fleet status`, and `verify` under the `sync` command (created when absent).</summary>
    public static void AddTo(RootCommand root)
    {
        var fleet = new Command("fleet", "Fleet operations: node presence and status.");
        fleet.Subcommands.Add(CreateStatus());
        root.Subcommands.Add(fleet);
        Command? sync = root.Subcommands.FirstOrDefault(command => command.Name == "sync");
        if (sync is null)
        {
            sync = new Command("sync", "Sync operations.");
            root.Subcommands.Add(sync);
        }

        sync.Subcommands.Add(CreateVerify());
    }

    private static Command CreateStatus()
    {
        var broker = BrokerOption();
        var fleetName = new Option<string>("--fleet") { Description = "Fleet name (the {fleet} level of ce/{fleet}/...).", Required = true };
        var username = new Option<string?>("--username") { Description = "User name (an account that may read ce/{fleet}/presence/+, e.g. the leader's)." };
        var password = new Option<string?>("--password") { Description = "Password." };
        var caFile = new Option<string?>("--cafile") { Description = "PEM file of the CA the broker's certificate must chain to (enables TLS)." };
        var wait = new Option<double>("--wait") { Description = "Seconds to collect presence (retained reports arrive at once).", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var command = new Command("status", "List every node of the fleet with its presence, backlog, lag, schema and battery.");
        foreach (Option option in new Option[] { broker, fleetName, username, password, caFile, wait, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            TextWriter output = result.InvocationConfiguration.Output;
            TextWriter error = result.InvocationConfiguration.Error;
            string fleet = result.GetValue(fleetName)!;
            var tracker = new PresenceTracker(fleet);
            try
            {
                string? ca = result.GetValue(caFile);
                (string brokerHost, int brokerPort) = ParseBroker(result.GetValue(broker)!);
                await using var client = new MqttClient(new MqttClientOptions
                {
                    Host = brokerHost,
                    Port = brokerPort,
                    Username = result.GetValue(username),
                    Password = result.GetValue(password),
                    ClientId = "cortex-edge-status-" + Guid.NewGuid().ToString("N")[..8],
                    AutoReconnect = false,
                    Tls = ca is null ? null : new MqttTlsOptions { CaFile = ca },
                });
                await client.ConnectAsync(cancellationToken);
                using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                window.CancelAfter(TimeSpan.FromSeconds(Math.Max(0.1, result.GetValue(wait))));
                try
                {
                    await tracker.RunAsync(client, window.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The collection window ended.
                }

                await client.DisconnectAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is MqttException or ArgumentException)
            {
                await error.WriteLineAsync($"fleet status: {exception.Message}");
                return ExitError;
            }

            // Refusal counts live in the leader process; this view has presence only.
            IReadOnlyList<FleetStatusRow> rows = FleetStatus.Build(tracker.GetNodes(), new Dictionary<string, NodeRefusalCounts>(), DateTimeOffset.UtcNow);
            await output.WriteAsync(result.GetValue(json) ? FleetStatus.RenderJson(rows) + "\n" : FleetStatus.RenderTable(rows));
            return 0;
        });
        return command;
    }

    private static Command CreateVerify()
    {
        var database = new Option<string>("--db") { Description = "Directory of the local database (stopped, or a copy).", Required = true };
        var peer = new Option<string?>("--peer-db") { Description = "Directory of the database to compare with (e.g. the leader's backup); without it, compare with the live leader through the broker." };
        var collections = new Option<string[]>("--collection") { Description = "Collection to verify (repeatable).", Required = true, AllowMultipleArgumentsPerToken = true };
        var broker = BrokerOption();
        var fleetName = new Option<string?>("--fleet") { Description = "Fleet name (with the broker)." };
        var nodeName = new Option<string?>("--node") { Description = "This node's id (with the broker; also its username unless --username is given)." };
        var username = new Option<string?>("--username") { Description = "User name (default: the node id)." };
        var password = new Option<string?>("--password") { Description = "Password." };
        var caFile = new Option<string?>("--cafile") { Description = "PEM file of the CA the broker's certificate must chain to (enables TLS)." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for each reply from the leader.", DefaultValueFactory = _ => 10 };
        var command = new Command("verify",
            "Compare collections with the leader (through the broker) or with another database (--peer-db) by Merkle digest; name every differing document; exit 3 when they differ.");
        foreach (Option option in new Option[] { database, peer, collections, broker, fleetName, nodeName, username, password, caFile, timeout })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            TextWriter output = result.InvocationConfiguration.Output;
            TextWriter error = result.InvocationConfiguration.Error;
            string? peerDirectory = result.GetValue(peer);
            string? fleet = result.GetValue(fleetName);
            string? node = result.GetValue(nodeName);
            if (peerDirectory is null && (fleet is null || node is null))
            {
                await error.WriteLineAsync("sync verify: give --peer-db, or --fleet and --node to verify against the leader.");
                return ExitError;
            }

            try
            {
                using EdgeDatabase local = EdgeDatabase.Open(result.GetValue(database)!, new EdgeDatabaseOptions { CreateIfMissing = false });
                int differing = 0;
                if (peerDirectory is not null)
                {
                    using EdgeDatabase remote = EdgeDatabase.Open(peerDirectory, new EdgeDatabaseOptions { CreateIfMissing = false });
                    foreach (string collection in result.GetValue(collections)!)
                    {
                        AntiEntropyReport report = AntiEntropyExchange.Compare(
                            MerkleDigest.Build(new EdgeCollectionSource(local, collection)), new AntiEntropyResponder(new EdgeCollectionSource(remote, collection)));
                        differing += Print(output, collection, report);
                    }
                }
                else
                {
                    string? ca = result.GetValue(caFile);
                    (string brokerHost, int brokerPort) = ParseBroker(result.GetValue(broker)!);
                    await using var client = new MqttClient(new MqttClientOptions
                    {
                        Host = brokerHost,
                        Port = brokerPort,
                        Username = result.GetValue(username) ?? node,
                        Password = result.GetValue(password),
                        ClientId = node + "-verify-" + Guid.NewGuid().ToString("N")[..6],
                        AutoReconnect = false,
                        Tls = ca is null ? null : new MqttTlsOptions { CaFile = ca },
                    });
                    await client.ConnectAsync(cancellationToken);
                    foreach (string collection in result.GetValue(collections)!)
                    {
                        AntiEntropyReport report = await MqttAntiEntropyClient.VerifyAsync(client, fleet!, node!, collection,
                            MerkleDigest.Build(new EdgeCollectionSource(local, collection)), TimeSpan.FromSeconds(result.GetValue(timeout)), cancellationToken);
                        differing += Print(output, collection, report);
                    }

                    await client.DisconnectAsync(cancellationToken);
                }

                return differing == 0 ? 0 : ExitDiverged;
            }
            catch (Exception exception) when (exception is EdgeException or FleetException or IOException or MqttException or TimeoutException or ArgumentException)
            {
                await error.WriteLineAsync($"sync verify: {exception.Message}");
                return ExitError;
            }
        });
        return command;
    }

    private static Option<string> BrokerOption() =>
        new("--broker") { Description = "MQTT broker as HOST:PORT.", DefaultValueFactory = _ => "127.0.0.1:1883" };

    private static (string Host, int Port) ParseBroker(string broker) => BrokerAddress.Parse(broker);

    private static int Print(TextWriter output, string collection, AntiEntropyReport report)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{collection}: {(report.Result.InAgreement ? "in agreement" : $"{report.Result.DifferingKeys.Count} documents differ in {report.Result.DifferingRanges.Count} ranges")} ({report.BytesExchanged} bytes, {report.Result.RoundTrips} round trips)"));
        foreach (KeyDifference difference in report.Result.DifferingKeys)
        {
            string kind = difference.Kind switch
            {
                KeyDifferenceKind.MissingAtPeer => "only local",
                KeyDifferenceKind.MissingLocally => "only at peer",
                _ => "different",
            };
            output.WriteLine($"  {kind,-12} {difference.Key}");
        }

        return report.Result.DifferingKeys.Count;
    }
}
