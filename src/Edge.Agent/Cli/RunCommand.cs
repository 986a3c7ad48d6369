using System.CommandLine;
using System.Runtime.InteropServices;
using CortexEdge.Agent.Configuration;
using CortexEdge.Agent.Daemon;
using CortexEdge.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace CortexEdge.Agent.Cli;

/// <summary><c>cortex-edge run --config FILE</c>: the daemon.</summary>
internal static class RunCommand
{
    /// <summary>Role-specific services (sync, replication) registered by their owners.</summary>
    internal static List<Action<AgentConfig, AgentHost>> RoleServices { get; } = [];

    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "The configuration file (see `cortex-edge config example`).", Required = true };
        var command = new Command("run", "Run the agent: store what sensors publish, serve the local API, sync with the leader. Stops cleanly on SIGTERM.") { config };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string path = parseResult.GetValue(config)!.FullName;
            var (agentConfig, errors) = AgentConfigReader.ReadFile(path);
            if (errors.Count > 0 || agentConfig is null)
            {
                foreach (ConfigError error in errors)
                {
                    parseResult.InvocationConfiguration.Error.WriteLine($"{path}: {error}");
                }

                return 2;
            }

            using ILoggerFactory loggers = CreateLoggerFactory();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true; // we exit on our own once flushed
                stop.Cancel();
            });
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });

            await using var host = new AgentHost(agentConfig, loggers, SystemdNotifier.FromEnvironment());
            foreach (Action<AgentConfig, AgentHost> register in RoleServices)
            {
                register(agentConfig, host);
            }

            try
            {
                await host.StartAsync(stop.Token);
            }
            catch (Exception ex) when (ex is EdgeException or IOException or UnauthorizedAccessException or Sync.Mqtt.MqttException or ArgumentException)
            {
                loggers.CreateLogger("cortex-edge").LogCritical("start failed: {Error}", ex.Message);
                return 1;
            }

            ReleaseStartupMemory();
            return await host.RunUntilStoppedAsync(stop.Token);
        });
        return command;
    }

    /// <summary>
    /// Once ready, gives back what only start-up needed (docs/operations.md, "Memory and power"):
    /// the garbage of config, DI, Kestrel and schema set-up (one compacting GC that decommits what
    /// it frees) and the pages of the binary that ran only then (they fault back in if used again).
    /// </summary>
    private static void ReleaseStartupMemory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        ExecutableMapping.ReleaseStartupPages();
    }

    /// <summary>Log lines on stderr with syslog priority prefixes (journald reads the level from them).</summary>
    internal static ILoggerFactory CreateLoggerFactory() => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(Enum.TryParse(Environment.GetEnvironmentVariable("CE_LOG_LEVEL"), ignoreCase: true, out LogLevel level) ? level : LogLevel.Information);
        builder.AddFilter("Microsoft", LogLevel.Warning);
        builder.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.AddSystemdConsole(options => options.IncludeScopes = false);
    });
}
