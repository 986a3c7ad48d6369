using System.CommandLine;
using System.Globalization;
using CortexEdge.Core;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Agent.Cli;

/// <summary>
/// `cortex-edge fleet status` (presence of every node and the leader's per-node refusal counts, both
/// retained on the broker) and
/// `cortex-edge sync verify` (anti-entropy between two database directories, e.g. a stopped node's
/// state and the leader's backup).
/// </summary>
internal static class FleetCommands
{
    private const int ExitError = 1;
    private const int ExitDiverged = 3;
    private const int ExitRepaired = 4;

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
            IReadOnlyDictionary<string, NodeRefusalCounts> refusals = new Dictionary<string, NodeRefusalCounts>();
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
                    // Presence and the leader's refusal counts are both retained: they arrive at once.
                    await client.SubscribeAsync(tracker.TopicFilter, MqttQualityOfService.AtLeastOnce, window.Token);
                    await client.SubscribeAsync(RefusalChannel.TopicFor(fleet), MqttQualityOfService.AtLeastOnce, window.Token);
                    await foreach (MqttMessage message in client.Messages.ReadAllAsync(window.Token))
                    {
                        if (!tracker.TryObserve(message) && message.Topic == RefusalChannel.TopicFor(fleet))
                        {
                            try
                            {
                                refusals = RefusalChannel.Decode(message.Payload.Span);
                            }
                            catch (FleetProtocolException exception)
                            {
                                await error.WriteLineAsync($"fleet status: ignoring the leader's refusal counts: {exception.Message}");
                            }
                        }
                    }
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

            IReadOnlyList<FleetStatusRow> rows = FleetStatus.Build(tracker.GetNodes(), refusals, DateTimeOffset.UtcNow);
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
        var noRepair = new Option<bool>("--no-repair") { Description = "Only report what differs; do not repair." };
        var command = new Command("verify",
            "Compare collections with the leader (through the broker) or with another database (--peer-db) by Merkle digest, name every differing document and repair it " +
            "(the newer version by HLC is written locally and, with the broker, synced up). Exit 0: in agreement; 4: differed and repaired; 3: differences remain.");
        foreach (Option option in new Option[] { database, peer, collections, broker, fleetName, nodeName, username, password, caFile, timeout, noRepair })
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
            bool repair = !result.GetValue(noRepair);
            if (peerDirectory is null && (fleet is null || node is null))
            {
                await error.WriteLineAsync("sync verify: give --peer-db, or --fleet and --node to verify against the leader.");
                return ExitError;
            }

            try
            {
                using EdgeDatabase local = EdgeDatabase.Open(result.GetValue(database)!, new EdgeDatabaseOptions { CreateIfMissing = false, RetainUnsyncedOps = peerDirectory is null });
                string[] names = result.GetValue(collections)!;
                if (peerDirectory is not null)
                {
                    using EdgeDatabase remote = EdgeDatabase.Open(peerDirectory, new EdgeDatabaseOptions { CreateIfMissing = false });
                    return await VerifyAllAsync(output, local, names, null, repair,
                        (collection, digest, _) => Task.FromResult(AntiEntropyExchange.Compare(digest, new AntiEntropyResponder(new EdgeCollectionSource(remote, collection)))),
                        (collection, keys, _) => Task.FromResult<IReadOnlyList<AntiEntropyDocument>>(keys.Select(new EdgeCollectionSource(remote, collection).GetDocument).ToArray()),
                        syncAsync: null, cancellationToken);
                }

                string? ca = result.GetValue(caFile);
                (string brokerHost, int brokerPort) = ParseBroker(result.GetValue(broker)!);
                TimeSpan replyTimeout = TimeSpan.FromSeconds(result.GetValue(timeout));
                MqttClientOptions Options(string purpose) => new()
                {
                    Host = brokerHost,
                    Port = brokerPort,
                    Username = result.GetValue(username) ?? node,
                    Password = result.GetValue(password),
                    ClientId = node + "-" + purpose + "-" + Guid.NewGuid().ToString("N")[..6],
                    AutoReconnect = false,
                    Tls = ca is null ? null : new MqttTlsOptions { CaFile = ca },
                };

                // One connection at a time: with use_username_as_clientid a second one would take the first over.
                await using var client = new MqttClient(Options("verify"));
                await client.ConnectAsync(cancellationToken);
                ManifestFilter? manifest = await ReadRetainedManifestAsync(client, fleet!, cancellationToken);
                async Task SyncAsync(CancellationToken token)
                {
                    await using var sync = new MqttSyncNode(new MqttClient(Options("sync")), new EdgeDatabaseSyncStore(local) { Manifest = manifest }, fleet!, node!,
                        new SyncSessionOptions { SnapshotNewNodes = false });
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
                    deadline.CancelAfter(replyTimeout * 3);
                    try
                    {
                        await sync.SyncOnceAsync(SyncScope.All, deadline.Token);
                    }
                    catch (OperationCanceledException) when (!token.IsCancellationRequested)
                    {
                        throw new TimeoutException($"sync verify: the sync round with the leader did not complete within {(replyTimeout * 3).TotalSeconds:0.#} s.");
                    }
                }

                // The verify connection is dropped for the sync round (one connection at a time) and made again.
                async Task ResyncAsync(CancellationToken token)
                {
                    await client.DisconnectAsync(token);
                    await SyncAsync(token);
                    await client.ConnectAsync(token);
                }

                if (repair)
                {
                    // Ops still in flight are not divergence: sync first, so what differs afterwards is real.
                    await ResyncAsync(cancellationToken);
                }

                int exit = await VerifyAllAsync(output, local, names, manifest, repair,
                    (collection, digest, token) => MqttAntiEntropyClient.VerifyAsync(client, fleet!, node!, collection, digest, replyTimeout, token),
                    (collection, keys, token) => MqttAntiEntropyClient.FetchDocumentsAsync(client, fleet!, node!, collection, keys, replyTimeout, token),
                    ResyncAsync, cancellationToken);
                await client.DisconnectAsync(cancellationToken);
                return exit;
            }
            catch (Exception exception) when (exception is EdgeException or FleetException or IOException or MqttException or TimeoutException or ArgumentException or SyncProtocolException)
            {
                await error.WriteLineAsync($"sync verify: {exception.Message}");
                return ExitError;
            }
        });
        return command;
    }

    // Verifies every collection, repairs what differs, syncs the repairs (with a broker) and verifies those collections again.
    private static async Task<int> VerifyAllAsync(TextWriter output, EdgeDatabase local, string[] collections, ManifestFilter? manifest, bool repair,
        Func<string, MerkleDigest, CancellationToken, Task<AntiEntropyReport>> compare,
        Func<string, IReadOnlyList<string>, CancellationToken, Task<IReadOnlyList<AntiEntropyDocument>>> fetch,
        Func<CancellationToken, Task>? syncAsync, CancellationToken cancellationToken)
    {
        var repairedCollections = new List<string>();
        int differing = 0;
        foreach (string collection in collections)
        {
            CollectionRule? rule = manifest?.Manifest.GetRule(collection);
            if (rule?.Direction == ReplicationDirection.LocalOnly)
            {
                await output.WriteLineAsync($"{collection}: local-only under the manifest; not compared");
                continue;
            }

            if (rule?.Direction == ReplicationDirection.Up)
            {
                await output.WriteLineAsync($"{collection}: up-only under the manifest (the leader holds every node's documents); not compared");
                continue;
            }

            AntiEntropyReport report = await compare(collection, Digest(local, collection, rule), cancellationToken);
            int count = Print(output, collection, report);
            differing += count;
            if (count == 0 || !repair)
            {
                continue;
            }

            IReadOnlyList<RepairedKey> repaired = await AntiEntropyRepair.RepairAsync(local, collection, report.Result,
                (keys, token) => fetch(collection, keys, token), rule?.LocalOnlyFields, cancellationToken);
            foreach (RepairedKey key in repaired)
            {
                string what = key.Action switch
                {
                    RepairAction.TookPeerVersion => "took peer's",
                    RepairAction.ResentLocalVersion => "resent ours",
                    _ => "no change",
                };
                await output.WriteLineAsync($"  repaired {what,-11} {key.Key}");
            }

            repairedCollections.Add(collection);
        }

        if (differing == 0)
        {
            return 0;
        }

        if (repairedCollections.Count == 0)
        {
            return ExitDiverged;
        }

        if (syncAsync is not null)
        {
            await syncAsync(cancellationToken); // the repairs are local writes: the normal upload carries them to the leader
        }

        int remaining = 0;
        foreach (string collection in repairedCollections)
        {
            AntiEntropyReport after = await compare(collection, Digest(local, collection, manifest?.Manifest.GetRule(collection)), cancellationToken);
            remaining += after.Result.DifferingKeys.Count;
            await output.WriteLineAsync(after.Result.InAgreement
                ? $"{collection}: after repair in agreement"
                : $"{collection}: after repair {after.Result.DifferingKeys.Count} documents still differ{(syncAsync is null ? " (resent versions reach the peer at the next sync)" : "")}");
        }

        return remaining == 0 ? ExitRepaired : ExitDiverged;
    }

    private static MerkleDigest Digest(EdgeDatabase database, string collection, CollectionRule? rule) =>
        MerkleDigest.Build(new EdgeCollectionSource(database, collection, rule?.LocalOnlyFields));

    // The manifest is retained on ce/{fleet}/manifest: it arrives at once after subscribing, or there is none.
    private static async Task<ManifestFilter?> ReadRetainedManifestAsync(MqttClient client, string fleet, CancellationToken cancellationToken)
    {
        var filter = new ManifestFilter(FleetRole.Node, ReplicationManifest.Default);
        return await ManifestChannel.ReadRetainedAsync(client, fleet, filter, TimeSpan.FromMilliseconds(500), cancellationToken) ? filter : null;
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
