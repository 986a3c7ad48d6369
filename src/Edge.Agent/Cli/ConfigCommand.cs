using System.CommandLine;
using CortexEdge.Agent.Configuration;

namespace CortexEdge.Agent.Cli;

/// <summary><c>cortex-edge config check FILE</c> and <c>cortex-edge config example</c>.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var command = new Command("config", "Validate a configuration file or print a commented example.");

        var file = new Argument<FileInfo>("FILE") { Description = "The configuration file (JSON; // comments allowed)." };
        var check = new Command("check", "Validate FILE; prints each bad field with its JSON path. Exit 0 when valid.") { file };
        check.SetAction(parseResult =>
        {
            FileInfo path = parseResult.GetValue(file)!;
            var (_, errors) = AgentConfigReader.ReadFile(path.FullName);
            if (errors.Count == 0)
            {
                parseResult.InvocationConfiguration.Output.WriteLine($"{path.FullName}: valid");
                return 0;
            }

            foreach (ConfigError error in errors)
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"{path.FullName}: {error}");
            }

            return 1;
        });

        var example = new Command("example", "Print a commented example configuration (itself valid).");
        example.SetAction(parseResult =>
        {
            parseResult.InvocationConfiguration.Output.WriteLine(AgentConfigExample.Text);
            return 0;
        });

        command.Subcommands.Add(check);
        command.Subcommands.Add(example);
        return command;
    }
}
