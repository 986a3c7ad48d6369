using System.CommandLine;
using System.Globalization;
using CortexEdge.Core;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Replication;

namespace CortexEdge.Agent.Cli;

/// <summary>
/// <c>cortex-edge replica</c> (follow the leader's WAL as a read replica), <c>cortex-edge replica resync</c>
/// (set a halted replica's database aside so it is rebuilt from a snapshot) and <c>cortex-edge promote</c>
/// (make this database the leader at a new log epoch). Exit codes: 0 success, 2 bad input, 3 database
/// error, 4 the replica halted on divergence, 5 broker unreachable.
/// </summary>
internal static class ReplicaCommands
{
    public const int ExitHalted = 4;
    public const int ExitBroker = 5;

    public static IEnumerable<Command> Create()
    {
        yield return CreateReplica();
        yield return CreatePromote();
    }

    private static Option<string> BrokerOption(bool required) => new("--broker") { Description = "MQTT broker as HOST:PORT.", Required = required };

    private static Option<string> FleetOption(bool required) => new("--fleet") { Description = "Fleet (deployment) name: the topic prefix ce/{fleet}/.", Required = required };

    private static bool TryParseBroker(string value, out string host, out int port) => BrokerAddress.TryParse(value, out host, out port);

    private static MqttClientOptions Mqtt(string host, int port, string clientId) => new()
    {
        Host = host,
        Port = port,
        ClientId = clientId,
        ReceiveQueueCountMax = 8192,
        OutgoingQueueCountMax = 100_000,
    };

    private static Command CreateReplica()
    {
        Option<string> db = DatabaseCommands.DbOption();
        Option<string> broker = BrokerOption(required: true);
        Option<string> fleet = FleetOption(required: true);
        var name = new Option<string>("--name") { Description = "This replica's name (topic ce/{fleet}/repl/{name}).", Required = true };
        var statusEvery = new Option<int>("--status-seconds") { Description = "Print the replica status every N seconds (0: never).", DefaultValueFactory = _ => 5 };
        var command = new Command("replica", "Run a read replica: follow the leader's WAL over MQTT, applied verbatim with the leader's LSNs; local writes are refused.")
        {
            db, broker, fleet, name, statusEvery,
        };
        command.Subcommands.Add(CreateResync());
        command.Subcommands.Add(CreateLeader());
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            if (!TryParseBroker(parseResult.GetValue(broker)!, out string host, out int port))
            {
                await error.WriteLineAsync($"--broker must be HOST:PORT, got '{parseResult.GetValue(broker)}'");
                return DatabaseCommands.ExitBadInput;
            }

            string replicaName = parseResult.GetValue(name)!;
            string fleetName = parseResult.GetValue(fleet)!;
            ReplicationFollower follower;
            try
            {
                follower = new ReplicationFollower(parseResult.GetValue(db)!, Mqtt(host, port, $"ce-replica-{fleetName}-{replicaName}"), fleetName, replicaName);
            }
            catch (ArgumentException exception)
            {
                await error.WriteLineAsync(exception.Message);
                return DatabaseCommands.ExitBadInput;
            }
            catch (EdgeException exception)
            {
                await error.WriteLineAsync($"cannot open the replica database: {exception.Message}");
                return DatabaseCommands.ExitDatabaseError;
            }

            await using (follower)
            {
                try
                {
                    await follower.StartAsync(cancellationToken);
                }
                catch (Exception exception) when (exception is MqttException or MqttTransportException)
                {
                    await error.WriteLineAsync($"cannot reach the broker {host}:{port}: {exception.Message}");
                    return ExitBroker;
                }

                int every = parseResult.GetValue(statusEvery);
                await output.WriteLineAsync($"replica '{replicaName}' following fleet '{fleetName}' via {host}:{port}, at LSN {follower.Database.Wal.LastLsn}");
                while (!cancellationToken.IsCancellationRequested)
                {
                    Task delay = Task.Delay(TimeSpan.FromSeconds(every > 0 ? every : 3600), cancellationToken);
                    Task done = await Task.WhenAny(delay, follower.Halted);
                    if (done == follower.Halted)
                    {
                        await error.WriteLineAsync($"replica halted: {follower.GetStatus().HaltReason}");
                        return ExitHalted;
                    }

                    if (every > 0 && !cancellationToken.IsCancellationRequested)
                    {
                        ReplicaStatus status = follower.GetStatus();
                        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"state={status.State} epoch={status.Epoch} applied={status.AppliedLsn} leader={status.LeaderLsn} lag_records={status.LagRecords} lag_seconds={status.LagSeconds:0.0} snapshot={status.SnapshotBytes}/{status.SnapshotTotalBytes}"));
                    }
                }
            }

            return 0;
        });
        return command;
    }

    private static Command CreateResync()
    {
        Option<string> db = DatabaseCommands.DbOption();
        var command = new Command("resync", "Set a (halted) replica's database aside as DIR.diverged-<time> so the next 'replica' run rebuilds it from the leader's snapshot. Nothing is deleted.")
        {
            db,
        };
        command.SetAction(parseResult =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            string directory = Path.GetFullPath(parseResult.GetValue(db)!);
            if (!Directory.Exists(directory))
            {
                error.WriteLine($"no database in '{directory}'");
                return DatabaseCommands.ExitNotFound;
            }

            try
            {
                // Opening proves nobody else has it open (the directory lock) before it is moved.
                EdgeDatabase.Open(directory, new EdgeDatabaseOptions { CreateIfMissing = false }).Dispose();
            }
            catch (EdgeException exception)
            {
                error.WriteLine($"cannot set the replica aside: {exception.Message}");
                return DatabaseCommands.ExitDatabaseError;
            }

            string aside = directory.TrimEnd('/') + ".diverged-" + DateTime.UtcNow.ToString("yyyyMMddTHHmmssZ", CultureInfo.InvariantCulture);
            Directory.Move(directory, aside);
            output.WriteLine($"replica database moved to '{aside}'; the next 'cortex-edge replica --db {directory} ...' run rebuilds it from the leader");
            return 0;
        });
        return command;
    }

    private static Command CreateLeader()
    {
        Option<string> db = DatabaseCommands.DbOption();
        Option<string> broker = BrokerOption(required: true);
        Option<string> fleet = FleetOption(required: true);
        var name = new Option<string>("--name") { Description = "This leader's name in the leadership record.", DefaultValueFactory = _ => Environment.MachineName };
        var writes = new Option<int>("--demo-writes-per-second") { Description = "Also write this many small documents per second to collection 'demo' (demos and crash tests; 0: none).", DefaultValueFactory = _ => 0 };
        var command = new Command("leader", "Serve the leader side of replication alone (no edge sync): stream this database's WAL to its replicas until stopped. 'cortex-edge leader' hosts the same service beside sync.")
        {
            db, broker, fleet, name, writes,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            if (!TryParseBroker(parseResult.GetValue(broker)!, out string host, out int port))
            {
                await error.WriteLineAsync($"--broker must be HOST:PORT, got '{parseResult.GetValue(broker)}'");
                return DatabaseCommands.ExitBadInput;
            }

            string fleetName = parseResult.GetValue(fleet)!;
            try
            {
                await using EdgeDatabase database = EdgeDatabase.Open(parseResult.GetValue(db)!);
                await using var leader = new ReplicationLeader(database, Mqtt(host, port, $"ce-leader-{fleetName}"), fleetName, new ReplicationLeaderOptions { LeaderName = parseResult.GetValue(name)! });
                await leader.StartAsync(cancellationToken);
                await output.WriteLineAsync($"leader of fleet '{fleetName}' at epoch {database.Wal.LogEpoch}, LSN {database.Wal.LastLsn}");
                int perSecond = parseResult.GetValue(writes);
                long written = 0;
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (!cancellationToken.IsCancellationRequested && !leader.IsFenced)
                {
                    if (perSecond > 0 && written < clock.Elapsed.TotalSeconds * perSecond)
                    {
                        await database.PutAsync("demo", $"d{written % 1000}", $"{{\"n\":{written}}}", cancellationToken);
                        written++;
                        continue;
                    }

                    await Task.Delay(perSecond > 0 ? 1 : 200, cancellationToken);
                }

                if (leader.IsFenced)
                {
                    await error.WriteLineAsync("fenced: a newer leader was promoted; this node refuses writes");
                    return DatabaseCommands.ExitDatabaseError;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            catch (ReplicationException exception)
            {
                await error.WriteLineAsync(exception.Message);
                return DatabaseCommands.ExitDatabaseError;
            }
            catch (EdgeException exception)
            {
                await error.WriteLineAsync($"database error: {exception.Message}");
                return DatabaseCommands.ExitDatabaseError;
            }
            catch (Exception exception) when (exception is MqttException or MqttTransportException)
            {
                await error.WriteLineAsync($"cannot reach the broker {host}:{port}: {exception.Message}");
                return ExitBroker;
            }

            return 0;
        });
        return command;
    }

    private static Command CreatePromote()
    {
        Option<string> db = DatabaseCommands.DbOption();
        Option<string> broker = BrokerOption(required: false);
        Option<string> fleet = FleetOption(required: false);
        var name = new Option<string>("--name") { Description = "This node's name in the leadership record.", DefaultValueFactory = _ => Environment.MachineName };
        var command = new Command("promote", "Make this database the leader: bump its log epoch (replicas then refuse the old leader's stream) and, with --broker and --fleet, publish the retained leadership record that fences the old leader.")
        {
            db, broker, fleet, name,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            string? brokerValue = parseResult.GetValue(broker);
            string? fleetName = parseResult.GetValue(fleet);
            string host = string.Empty;
            int port = 0;
            if ((brokerValue is null) != (fleetName is null) || (brokerValue is not null && !TryParseBroker(brokerValue, out host, out port)))
            {
                await error.WriteLineAsync("--broker HOST:PORT and --fleet go together");
                return DatabaseCommands.ExitBadInput;
            }

            ulong announced = 0;
            MqttClient? client = null;
            try
            {
                if (brokerValue is not null)
                {
                    client = new MqttClient(Mqtt(host, port, "ce-promote-" + Guid.NewGuid().ToString("N")[..8]));
                    await client.ConnectAsync(cancellationToken);
                    await client.SubscribeAsync(ReplicationTopics.Leadership(fleetName!), MqttQualityOfService.AtLeastOnce, cancellationToken);
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    wait.CancelAfter(TimeSpan.FromSeconds(1));
                    try
                    {
                        MqttMessage retained = await client.Messages.ReadAsync(wait.Token);
                        ReplicationTopics.TryDecodeLeadership(retained.Payload.Span, out announced, out _);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // no leadership record retained yet
                    }
                }

                using EdgeDatabase database = EdgeDatabase.Open(parseResult.GetValue(db)!, new EdgeDatabaseOptions { CreateIfMissing = false });
                ulong epoch = Math.Max(database.Wal.LogEpoch, announced) + 1;
                database.Wal.AdvanceEpoch(epoch);
                await database.FlushAsync(cancellationToken);
                if (client is not null)
                {
                    await client.PublishAsync(ReplicationTopics.Leadership(fleetName!), ReplicationTopics.EncodeLeadership(epoch, parseResult.GetValue(name)!),
                        MqttQualityOfService.AtLeastOnce, retain: true, cancellationToken);
                }

                await output.WriteLineAsync($"promoted: log epoch {epoch} from LSN {database.Wal.LastLsn + 1}; start the leader on this database");
                return 0;
            }
            catch (DirectoryNotFoundException exception)
            {
                await error.WriteLineAsync($"cannot promote: {exception.Message}");
                return DatabaseCommands.ExitNotFound;
            }
            catch (EdgeException exception)
            {
                await error.WriteLineAsync($"cannot promote: {exception.Message}");
                return DatabaseCommands.ExitDatabaseError;
            }
            catch (Exception exception) when (exception is MqttException or MqttTransportException)
            {
                await error.WriteLineAsync($"cannot reach the broker {host}:{port}: {exception.Message}");
                return ExitBroker;
            }
            finally
            {
                if (client is not null)
                {
                    await client.DisposeAsync();
                }
            }
        });
        return command;
    }
}
