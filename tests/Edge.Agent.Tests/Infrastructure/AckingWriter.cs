using System.Diagnostics;
using System.Text;

namespace CortexEdge.Agent.Tests.Infrastructure;

/// <summary>
/// Drives a crash-test child (`dotnet cortex-edge.dll ... write-load`) that prints "ack KEY" as each
/// write is acknowledged: waits for the first acknowledgement, lets it run, SIGKILLs it, and returns
/// the keys of the complete "ack" lines printed before the kill.
/// </summary>
internal static class AckingWriter
{
    public static async Task<List<string>> RunAndKillAsync(IEnumerable<string> arguments, int killAfterMilliseconds, string context)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var output = new StringBuilder();
        int acked = 0;
        Task pump = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            var decoder = Encoding.UTF8.GetDecoder();
            var chars = new char[buffer.Length];
            int read;
            while ((read = await process.StandardOutput.BaseStream.ReadAsync(buffer)) > 0)
            {
                int count = decoder.GetChars(buffer, 0, read, chars, 0);
                lock (output)
                {
                    output.Append(chars, 0, count);
                }

                Volatile.Write(ref acked, 1);
            }
        });
        Task<string> errors = process.StandardError.ReadToEndAsync();
        var firstAck = Stopwatch.StartNew();
        while (Volatile.Read(ref acked) == 0 && !process.HasExited && firstAck.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(5);
        }

        if (process.HasExited)
        {
            Assert.Fail($"{context}: the writer exited early with {process.ExitCode}: {await errors}");
        }

        Assert.True(Volatile.Read(ref acked) != 0, $"{context}: no acknowledgement within 60 s");
        await Task.Delay(killAfterMilliseconds);
        process.Kill(); // SIGKILL on Linux
        await process.WaitForExitAsync();
        await pump;
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        // Only complete lines count: a line cut by the kill was not fully printed.
        int lastNewline = text.LastIndexOf('\n');
        string complete = lastNewline < 0 ? "" : text[..lastNewline];
        return [.. complete.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("ack ", StringComparison.Ordinal)).Select(l => l[4..])];
    }
}
