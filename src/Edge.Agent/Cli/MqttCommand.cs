using System.CommandLine;
using System.Globalization;
using System.Text;
using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Agent.Cli;

/// <summary>
/// `cortex-edge mqtt pub|sub`: operator commands to test a broker with the same MQTT client the
/// agent uses for sync. Exit codes: 0 success, 1 MQTT error (refused, TLS, lost), 2 timeout.
/// </summary>
internal static class MqttCommand
{
    private const int ExitMqttError = 1;
    private const int ExitTimeout = 2;

    public static Command Create()
    {
        var command = new Command("mqtt", "Publish to or subscribe from an MQTT broker (to check broker, credentials and TLS).");
        command.Subcommands.Add(CreatePublish());
        command.Subcommands.Add(CreateSubscribe());
        return command;
    }

    private sealed class ConnectionOptions
    {
        public Option<string> Host { get; } = new("--host") { Description = "Broker host name or IP address.", DefaultValueFactory = _ => "127.0.0.1" };

        public Option<int> Port { get; } = new("--port") { Description = "Broker port.", DefaultValueFactory = _ => 1883 };

        public Option<string> Topic { get; } = new("--topic") { Description = "Topic name (pub) or topic filter (sub).", Required = true };

        public Option<int> Qos { get; } = new("--qos") { Description = "Quality of service: 0, 1 or 2.", DefaultValueFactory = _ => 0 };

        public Option<string> Version { get; } = new("--mqtt-version") { Description = "Protocol version to ask for: 5 (falls back to 3.1.1 if refused) or 3.1.1.", DefaultValueFactory = _ => "5" };

        public Option<string?> Username { get; } = new("--username") { Description = "User name." };

        public Option<string?> Password { get; } = new("--password") { Description = "Password." };

        public Option<string?> CaFile { get; } = new("--cafile") { Description = "PEM file of the CA the broker's certificate must chain to (enables TLS)." };

        public Option<string?> Certificate { get; } = new("--cert") { Description = "PEM client certificate (enables TLS)." };

        public Option<string?> Key { get; } = new("--key") { Description = "PEM private key of --cert." };

        public Option<string?> ClientId { get; } = new("--client-id") { Description = "Client identifier (default: random)." };

        public void AddTo(Command command)
        {
            Version.AcceptOnlyFromAmong("5", "3.1.1");
            Qos.AcceptOnlyFromAmong("0", "1", "2");
            foreach (Option option in new Option[] { Host, Port, Topic, Qos, Version, Username, Password, CaFile, Certificate, Key, ClientId })
            {
                command.Options.Add(option);
            }
        }

        public MqttClientOptions Build(ParseResult result)
        {
            string? caFile = result.GetValue(CaFile);
            string? certificate = result.GetValue(Certificate);
            return new MqttClientOptions
            {
                Host = result.GetValue(Host)!,
                Port = result.GetValue(Port),
                ProtocolVersion = result.GetValue(Version) == "3.1.1" ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500,
                Username = result.GetValue(Username),
                Password = result.GetValue(Password),
                ClientId = result.GetValue(ClientId) ?? "cortex-edge-cli-" + Guid.NewGuid().ToString("N")[..8],
                AutoReconnect = false,
                Tls = caFile is null && certificate is null ? null : new MqttTlsOptions
                {
                    CaFile = caFile,
                    ClientCertificateFile = certificate,
                    ClientKeyFile = result.GetValue(Key),
                },
            };
        }
    }

    private static Command CreatePublish()
    {
        var connection = new ConnectionOptions();
        var message = new Option<string>("--message") { Description = "Payload (UTF-8).", Required = true };
        var count = new Option<int>("--count") { Description = "How many times to publish the message.", DefaultValueFactory = _ => 1 };
        var retain = new Option<bool>("--retain") { Description = "Ask the broker to retain the message." };
        var command = new Command("pub", "Publish a message; exits 0 once every publish completed at its QoS.");
        connection.AddTo(command);
        command.Options.Add(message);
        command.Options.Add(count);
        command.Options.Add(retain);
        command.SetAction(async (result, cancellationToken) =>
        {
            TextWriter error = result.InvocationConfiguration.Error;
            try
            {
                await using var client = new MqttClient(connection.Build(result));
                await client.ConnectAsync(cancellationToken);
                byte[] payload = Encoding.UTF8.GetBytes(result.GetValue(message)!);
                var qos = (MqttQualityOfService)result.GetValue(connection.Qos);
                string topic = result.GetValue(connection.Topic)!;
                bool retained = result.GetValue(retain);
                int total = Math.Max(1, result.GetValue(count));
                var pending = new Queue<ValueTask>();
                for (int i = 0; i < total; i++)
                {
                    if (pending.Count >= 1000)
                    {
                        await pending.Dequeue();
                    }

                    pending.Enqueue(client.PublishAsync(topic, payload, qos, retained, cancellationToken));
                }

                while (pending.Count > 0)
                {
                    await pending.Dequeue();
                }

                await client.DisconnectAsync(cancellationToken);
                return 0;
            }
            catch (MqttException exception)
            {
                await error.WriteLineAsync($"mqtt pub: {exception.Message}");
                return ExitMqttError;
            }
        });
        return command;
    }

    private static Command CreateSubscribe()
    {
        var connection = new ConnectionOptions();
        var count = new Option<int>("--count") { Description = "Exit after this many messages (0: no limit).", DefaultValueFactory = _ => 0 };
        var timeout = new Option<double>("--timeout") { Description = "Give up after this many seconds (0: no limit); exit code 2 if --count was not reached.", DefaultValueFactory = _ => 0 };
        var command = new Command("sub", "Subscribe and print each payload on its own line.");
        connection.AddTo(command);
        command.Options.Add(count);
        command.Options.Add(timeout);
        command.SetAction(async (result, cancellationToken) =>
        {
            TextWriter output = result.InvocationConfiguration.Output;
            TextWriter error = result.InvocationConfiguration.Error;
            int wanted = result.GetValue(count);
            double seconds = result.GetValue(timeout);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (seconds > 0)
            {
                deadline.CancelAfter(TimeSpan.FromSeconds(seconds));
            }

            int received = 0;
            try
            {
                await using var client = new MqttClient(connection.Build(result));
                await client.ConnectAsync(deadline.Token);
                await client.SubscribeAsync(result.GetValue(connection.Topic)!, (MqttQualityOfService)result.GetValue(connection.Qos), deadline.Token);
                while (wanted == 0 || received < wanted)
                {
                    MqttMessage message = await client.Messages.ReadAsync(deadline.Token);
                    await output.WriteLineAsync(message.GetPayloadAsString());
                    await output.FlushAsync(CancellationToken.None);
                    received++;
                }

                return 0;
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                if (wanted == 0)
                {
                    return 0;
                }

                await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"mqtt sub: timed out after {seconds} s with {received} of {wanted} messages."));
                return ExitTimeout;
            }
            catch (MqttException exception)
            {
                await error.WriteLineAsync($"mqtt sub: {exception.Message}");
                return ExitMqttError;
            }
        });
        return command;
    }
}
