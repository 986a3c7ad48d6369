using System.CommandLine;
using System.Globalization;
using System.Text;
using CortexEdge.Core.TimeSeries;

namespace CortexEdge.Agent.Cli;

/// <summary>
/// <c>append</c>, <c>range</c> and <c>series</c> (and the <c>append-load</c> crash-test driver): time series from the command line. When an agent
/// runs on the data directory they go through its local API instead of failing on the lock.
/// </summary>
internal static class SeriesCommands
{
    private const int StdinBatchReadings = 10_000;
    private const int ProgressEveryReadings = 100_000;

    public static IEnumerable<Command> Create() => [CreateAppend(), CreateRange(), CreateSeries(), AppendLoadCommand.Create()];

    private static Command CreateAppend()
    {
        Option<string> db = DatabaseCommands.DbOption();
        var series = new Argument<string>("series") { Description = "Series name." };
        var readings = new Argument<string[]>("readings") { Description = "Readings as VALUE (stamped --ts or now) or TIMESTAMP_MS,VALUE.", Arity = ArgumentArity.ZeroOrMore };
        var ts = new Option<long?>("--ts") { Description = "Timestamp (Unix ms) for readings given as a bare VALUE." };
        var stdin = new Option<bool>("--stdin") { Description = "Read lines TIMESTAMP_MS,VALUE from standard input (bulk load; bad lines are counted and named)." };
        var command = new Command("append", "Append readings to a series; exits 0 once they are acknowledged.") { db, series, readings, ts, stdin };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            TextWriter error = parseResult.InvocationConfiguration.Error;
            string name = parseResult.GetValue(series)!;
            if (parseResult.GetValue(stdin))
            {
                return await AppendStdinAsync(parseResult, name, Console.In, cancellationToken);
            }

            long stamp = parseResult.GetValue(ts) ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var parsed = new List<TimeSeriesReading>();
            foreach (string text in parseResult.GetValue(readings) ?? [])
            {
                if (!TryParseReading(text, stamp, out TimeSeriesReading reading))
                {
                    await error.WriteLineAsync($"error: '{text}' is not VALUE or TIMESTAMP_MS,VALUE");
                    return DatabaseCommands.ExitBadInput;
                }

                parsed.Add(reading);
            }

            if (parsed.Count == 0)
            {
                await error.WriteLineAsync("error: give readings as arguments or --stdin");
                return DatabaseCommands.ExitBadInput;
            }

            return await AppendAsync(parseResult, name, parsed, cancellationToken);
        });
        return command;
    }

    private static Task<int> AppendAsync(ParseResult parseResult, string name, List<TimeSeriesReading> readings, CancellationToken cancellationToken) =>
        DatabaseCommands.WithDatabase(parseResult, DatabaseCommands.ParseDurability("group"), async (database, output) =>
        {
            TimeSeriesAppendResult result = await database.AppendAsync(name, readings.ToArray(), cancellationToken);
            await output.WriteLineAsync($"ok added={result.Added} replaced={result.Replaced}");
            return 0;
        }, agent => agent.SendAsync(HttpMethod.Post, $"v1/series/{Uri.EscapeDataString(name)}", ToJson(readings), cancellationToken));

    private static async Task<int> AppendStdinAsync(ParseResult parseResult, string name, TextReader input, CancellationToken cancellationToken)
    {
        TextWriter error = parseResult.InvocationConfiguration.Error;
        var batch = new List<TimeSeriesReading>(StdinBatchReadings);
        var rejected = new List<long>();
        long lineNumber = 0;
        long accepted = 0;
        int exit = 0;
        for (string? line = await input.ReadLineAsync(cancellationToken); line is not null; line = await input.ReadLineAsync(cancellationToken))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            if (line.Contains(',', StringComparison.Ordinal) && TryParseReading(line, 0, out TimeSeriesReading reading))
            {
                batch.Add(reading);
            }
            else
            {
                rejected.Add(lineNumber);
            }

            if (batch.Count == StdinBatchReadings)
            {
                exit = await AppendAsync(parseResult, name, batch, cancellationToken);
                if (exit != 0)
                {
                    return exit;
                }

                accepted += batch.Count;
                batch.Clear();
                if (accepted % ProgressEveryReadings == 0)
                {
                    await error.WriteLineAsync($"progress: {accepted:N0} readings stored ({lineNumber:N0} lines read)");
                }
            }
        }

        if (batch.Count > 0)
        {
            exit = await AppendAsync(parseResult, name, batch, cancellationToken);
            accepted += exit == 0 ? batch.Count : 0;
        }

        await error.WriteLineAsync($"stored {accepted:N0} readings; rejected {rejected.Count:N0} lines" +
            (rejected.Count == 0 ? "" : $" (line {string.Join(", ", rejected.Take(20))}{(rejected.Count > 20 ? ", ..." : "")}: not TIMESTAMP_MS,VALUE)"));
        return exit != 0 ? exit : rejected.Count > 0 ? DatabaseCommands.ExitBadInput : 0;
    }

    private static bool TryParseReading(string text, long defaultTimestamp, out TimeSeriesReading reading)
    {
        int comma = text.IndexOf(',');
        reading = default;
        if (comma < 0)
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                return false;
            }

            reading = new TimeSeriesReading(defaultTimestamp, value);
            return true;
        }

        if (long.TryParse(text.AsSpan(0, comma).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long ts)
            && double.TryParse(text.AsSpan(comma + 1).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
        {
            reading = new TimeSeriesReading(ts, v);
            return true;
        }

        return false;
    }

    private static string ToJson(List<TimeSeriesReading> readings)
    {
        var body = new StringBuilder("[");
        for (int i = 0; i < readings.Count; i++)
        {
            body.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"[{readings[i].Timestamp},{readings[i].Value.ToString("R", CultureInfo.InvariantCulture)}]");
        }

        return body.Append(']').ToString();
    }

    /// <summary>Parses a bucket width: 90 (seconds), 10s, 1m, 2h, 1d.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        char unit = text[^1];
        double scale = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, _ => 0 };
        string number = scale == 0 ? text : text[..^1];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value <= 0)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(value * (scale == 0 ? 1 : scale));
        return true;
    }

    private static Command CreateRange()
    {
        Option<string> db = DatabaseCommands.DbOption();
        var series = new Argument<string>("series") { Description = "Series name." };
        var from = new Option<long?>("--from") { Description = "First timestamp (Unix ms), inclusive." };
        var to = new Option<long?>("--to") { Description = "Last timestamp (Unix ms), inclusive." };
        var bucket = new Option<string?>("--bucket") { Description = "Downsample into buckets: 90 (seconds), 10s, 1m, 1h, 1d." };
        var agg = new Option<string?>("--agg") { Description = "With --bucket, print one aggregate: min, max, avg, count, first, last (default: all)." };
        agg.AcceptOnlyFromAmong("min", "max", "avg", "count", "first", "last");
        var command = new Command("range", "Print a series' readings (TIMESTAMP_MS,VALUE per line) or its downsampled buckets.") { db, series, from, to, bucket, agg };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string name = parseResult.GetValue(series)!;
            long fromMs = parseResult.GetValue(from) ?? long.MinValue;
            long toMs = parseResult.GetValue(to) ?? long.MaxValue;
            string? bucketText = parseResult.GetValue(bucket);
            string? aggregate = parseResult.GetValue(agg);
            TextWriter error = parseResult.InvocationConfiguration.Error;
            TimeSpan width = default;
            if (bucketText is not null && !TryParseDuration(bucketText, out width))
            {
                await error.WriteLineAsync($"error: --bucket '{bucketText}' is not a positive duration (90, 10s, 1m, 1h, 1d)");
                return DatabaseCommands.ExitBadInput;
            }

            return await DatabaseCommands.WithDatabase(parseResult, DatabaseCommands.ParseDurability("none"), async (database, output) =>
            {
                if (bucketText is not null)
                {
                    await output.WriteLineAsync(aggregate is null ? "start,count,min,max,avg,first,last" : $"start,{aggregate}");
                    foreach (TimeSeriesBucket b in database.Downsample(name, fromMs, toMs, width))
                    {
                        string line = aggregate switch
                        {
                            null => string.Create(CultureInfo.InvariantCulture, $"{b.Start},{b.Count},{b.Min:R},{b.Max:R},{b.Average:R},{b.First:R},{b.Last:R}"),
                            "count" => string.Create(CultureInfo.InvariantCulture, $"{b.Start},{b.Count}"),
                            _ => string.Create(CultureInfo.InvariantCulture, $"{b.Start},{Pick(b, aggregate):R}"),
                        };
                        await output.WriteLineAsync(line);
                    }
                }
                else
                {
                    foreach (TimeSeriesReading reading in database.ReadRange(name, fromMs, toMs))
                    {
                        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{reading.Timestamp},{reading.Value:R}"));
                    }
                }

                return 0;
            }, agent => agent.SendAsync(
                HttpMethod.Get,
                $"v1/series/{Uri.EscapeDataString(name)}?from={fromMs}&to={toMs}" + (bucketText is null ? "" : $"&bucket={width.TotalSeconds.ToString(CultureInfo.InvariantCulture)}"),
                null,
                cancellationToken));
        });
        return command;
    }

    private static double Pick(TimeSeriesBucket bucket, string aggregate) => aggregate switch
    {
        "min" => bucket.Min,
        "max" => bucket.Max,
        "first" => bucket.First,
        "last" => bucket.Last,
        _ => bucket.Average,
    };

    private static Command CreateSeries()
    {
        Option<string> db = DatabaseCommands.DbOption();
        var command = new Command("series", "List the series: name, readings, first and last timestamp, stored chunk bytes.") { db };
        command.SetAction((parseResult, cancellationToken) =>
            DatabaseCommands.WithDatabase(parseResult, DatabaseCommands.ParseDurability("none"), async (database, output) =>
            {
                await output.WriteLineAsync("name,count,first,last,chunk_bytes");
                foreach (TimeSeriesInfo info in database.ListSeries())
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{info.Name},{info.Count},{info.FirstTimestamp},{info.LastTimestamp},{info.ChunkBytes}"));
                }

                return 0;
            }, agent => agent.SendAsync(HttpMethod.Get, "v1/series", null, cancellationToken)));
        return command;
    }
}
