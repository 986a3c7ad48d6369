using System.CommandLine;
using CortexEdge.Core.Compression;

namespace CortexEdge.Agent.Cli;

/// <summary>The `cortex-edge` command tree. Each role or tool adds its subcommand here.</summary>
internal static class EdgeCommandLine
{
    public static RootCommand Create()
    {
        var root = new RootCommand(
            "CortexEdge: offline-first embedded database for edge devices. " +
            "One binary runs the edge node, the upstream leader and its read replicas.");
        root.Subcommands.Add(CreateInfoCommand());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(PolicyCommand.Create());
        foreach (Command command in SeriesCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        foreach (Command command in DatabaseCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(MqttCommand.Create());
        foreach (Command command in ReplicaCommands.Create()) { root.Subcommands.Add(command); }

        foreach (Command command in SyncCommands.Create()) root.Subcommands.Add(command);
        FleetCommands.AddTo(root);
        return root;
    }

    private static Command CreateInfoCommand()
    {
        var command = new Command("info", "Print the build and the versions of the linked native libraries (SQLite, LZ4).");
        command.SetAction(parseResult =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            output.WriteLine($"cortex-edge {typeof(EdgeCommandLine).Assembly.GetName().Version}");
            output.WriteLine($"runtime     {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription} {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}");
            output.WriteLine($"sqlite      {SQLitePCL.raw.sqlite3_libversion().utf8_to_string()}");
            output.WriteLine($"lz4         {Lz4.Version}");
            return 0;
        });
        return command;
    }
}
