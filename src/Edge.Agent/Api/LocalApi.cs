using System.Buffers;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CortexEdge.Agent.Cli;
using CortexEdge.Core;
using CortexEdge.Core.Documents;
using CortexEdge.Core.TimeSeries;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CortexEdge.Agent.Api;

/// <summary>
/// The agent's local HTTP API (Kestrel). Bound to loopback by default; when a token is configured
/// every request but <c>/healthz</c> must carry <c>Authorization: Bearer TOKEN</c>. Handlers are
/// plain <see cref="RequestDelegate"/>s writing JSON with <see cref="Utf8JsonWriter"/>: no
/// reflection, AOT-clean.
/// </summary>
/// <remarks>
/// Routes (all JSON): <c>GET/PUT/PATCH/DELETE /v1/docs/{collection}/{key}</c>,
/// <c>GET /v1/docs/{collection}?prefix=&amp;where=F=V&amp;limit=</c>,
/// <c>GET /v1/series</c>, <c>POST /v1/series/{series}</c> (body <c>[[ts,value],...]</c>),
/// <c>GET /v1/series/{series}?from=&amp;to=[&amp;bucket=SECONDS]</c>, <c>GET /v1/stats</c>,
/// <c>PUT /v1/vectors/{collection}/{id}</c> (<c>{"vector":[...],"documentKey":"..."}</c>),
/// <c>POST /v1/vectors/{collection}/search</c> (<c>{"vector":[...],"k":10,"keyPrefix":"..."}</c>),
/// <c>GET /metrics</c> (Prometheus text), <c>GET /healthz</c>, plus what
/// <see cref="LocalApiOptions.MapExtra"/> adds (sync, vectors).
/// </remarks>
public sealed class LocalApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly EdgeDatabase _database;
    private readonly byte[]? _tokenHash;

    private LocalApi(WebApplication app, EdgeDatabase database, byte[]? tokenHash)
    {
        _app = app;
        _database = database;
        _tokenHash = tokenHash;
    }

    /// <summary>The address the API listens on (resolved port when 0 was asked for).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Creates and starts the API.</summary>
    /// <exception cref="ArgumentException">The bind address is not loopback and no token is given.</exception>
    public static async Task<LocalApi> StartAsync(EdgeDatabase database, LocalApiOptions options, CancellationToken cancellationToken = default)
    {
        IPEndPoint endPoint = ParseBind(options.Bind);
        if (!IPAddress.IsLoopback(endPoint.Address) && string.IsNullOrEmpty(options.Token))
        {
            throw new ArgumentException($"binding the API to {endPoint} (not loopback) requires a token", nameof(options));
        }

        // No reload-on-change: it would put an inotify watcher (and its thread) on the working
        // directory for an appsettings.json the agent does not use, waking it on every change there.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        if (options.LoggerFactory is not null)
        {
            builder.Services.AddSingleton(options.LoggerFactory);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(endPoint);
            kestrel.Limits.MaxRequestBodySize = options.RequestBytesMax;
            kestrel.AddServerHeader = false;
        });
        WebApplication app = builder.Build();
        byte[]? tokenHash = string.IsNullOrEmpty(options.Token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.Token));
        var api = new LocalApi(app, database, tokenHash);
        app.Use(api.AuthorizeAsync);
        api.Map(app, options);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string address = app.Urls.First();
        api.Address = new Uri(address);
        return api;
    }

    private static IPEndPoint ParseBind(string bind)
    {
        int colon = bind.LastIndexOf(':');
        string host = colon > 0 ? bind[..colon].Trim('[', ']') : bind;
        int port = colon > 0 && int.TryParse(bind.AsSpan(colon + 1), CultureInfo.InvariantCulture, out int p) ? p : 8080;
        IPAddress address = host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host);
        return new IPEndPoint(address, port);
    }

    private async Task AuthorizeAsync(HttpContext context, RequestDelegate next)
    {
        if (_tokenHash is not null && context.Request.Path != "/healthz")
        {
            string header = context.Request.Headers.Authorization.ToString();
            bool ok = header.StartsWith("Bearer ", StringComparison.Ordinal) &&
                CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..])), _tokenHash);
            if (!ok)
            {
                await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "unauthorized", "a valid 'Authorization: Bearer TOKEN' header is required").ConfigureAwait(false);
                return;
            }
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (EdgeException ex)
        {
            await WriteErrorAsync(context, ex.Code == EdgeErrorCode.Unknown ? 500 : StatusCodes.Status409Conflict, ex.Code.ToString(), ex.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "bad-request", ex.Message).ConfigureAwait(false);
        }
    }

    private void Map(WebApplication app, LocalApiOptions options)
    {
        app.MapGet("/healthz", context => WriteTextAsync(context, _database.IsFaulted ? 503 : 200, _database.IsFaulted ? "faulted\n" : "ok\n"));
        app.MapGet("/metrics", context =>
        {
            string text = options.Metrics?.Invoke() ?? "";
            context.Response.ContentType = Metrics.PrometheusTextWriter.ContentType;
            return context.Response.WriteAsync(text);
        });
        app.MapGet("/v1/stats", GetStatsAsync);
        app.MapGet("/v1/docs/{collection}/{key}", GetDocumentAsync);
        app.MapPut("/v1/docs/{collection}/{key}", context => WriteDocumentAsync(context, patch: false));
        app.MapPatch("/v1/docs/{collection}/{key}", context => WriteDocumentAsync(context, patch: true));
        app.MapDelete("/v1/docs/{collection}/{key}", DeleteDocumentAsync);
        app.MapGet("/v1/docs/{collection}", ScanAsync);
        app.MapGet("/v1/series", ListSeriesAsync);
        app.MapPost("/v1/series/{series}", AppendReadingsAsync);
        app.MapGet("/v1/series/{series}", ReadSeriesAsync);
        app.MapPut("/v1/vectors/{collection}/{id}", UpsertVectorAsync);
        app.MapPost("/v1/vectors/{collection}/search", SearchVectorsAsync);
        options.MapExtra?.Invoke(app);
    }

    private static string Route(HttpContext context, string name) => (string)context.Request.RouteValues[name]!;

    private Task GetStatsAsync(HttpContext context)
    {
        EdgeDatabaseStats stats = _database.GetStats();
        return WriteJsonAsync(context, 200, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("replicaId", stats.ReplicaId.ToString("x16", CultureInfo.InvariantCulture));
            writer.WriteNumber("firstLsn", stats.FirstLsn);
            writer.WriteNumber("lastLsn", stats.LastLsn);
            writer.WriteNumber("durableLsn", stats.DurableLsn);
            writer.WriteNumber("checkpointLsn", stats.CheckpointLsn);
            writer.WriteNumber("walSegments", stats.WalSegmentCount);
            writer.WriteNumber("walUsedBytes", stats.WalUsedBytes);
            writer.WriteNumber("walQuotaBytes", stats.WalQuotaBytes);
            writer.WriteNumber("clockSkewRejections", stats.ClockSkewRejectionCount);
            if (stats.Fault is null)
            {
                writer.WriteNull("fault");
            }
            else
            {
                writer.WriteString("fault", stats.Fault);
            }

            writer.WriteEndObject();
        });
    }

    private Task GetDocumentAsync(HttpContext context)
    {
        if (!_database.TryGet(Route(context, "collection"), Route(context, "key"), out EdgeDocument? document))
        {
            return WriteErrorAsync(context, 404, "not-found", $"no document '{Route(context, "key")}' in '{Route(context, "collection")}'");
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(document.Utf8Json).AsTask();
    }

    private async Task WriteDocumentAsync(HttpContext context, bool patch)
    {
        using JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        if (body.RootElement.ValueKind != JsonValueKind.Object)
        {
            await WriteErrorAsync(context, 400, "bad-request", "the body must be a JSON object").ConfigureAwait(false);
            return;
        }

        string collection = Route(context, "collection");
        string key = Route(context, "key");
        WriteReceipt receipt = patch
            ? await _database.PatchAsync(collection, key, body.RootElement, context.RequestAborted).ConfigureAwait(false)
            : await _database.PutAsync(collection, key, body.RootElement, context.RequestAborted).ConfigureAwait(false);
        await WriteReceiptAsync(context, receipt).ConfigureAwait(false);
    }

    private async Task DeleteDocumentAsync(HttpContext context)
    {
        WriteReceipt receipt = await _database.DeleteAsync(Route(context, "collection"), Route(context, "key"), context.RequestAborted).ConfigureAwait(false);
        await WriteReceiptAsync(context, receipt).ConfigureAwait(false);
    }

    private static Task WriteReceiptAsync(HttpContext context, WriteReceipt receipt) => WriteJsonAsync(context, 200, writer =>
    {
        writer.WriteStartObject();
        writer.WriteNumber("lsn", receipt.Lsn);
        writer.WriteString("hlc", receipt.Header.Timestamp.ToString());
        writer.WriteEndObject();
    });

    private Task ScanAsync(HttpContext context)
    {
        var filters = new List<DocumentFilter>();
        foreach (string? condition in context.Request.Query["where"])
        {
            if (condition is null)
            {
                continue;
            }

            if (!DatabaseCommands.TryParseCondition(condition, out DocumentFilter? filter, out string? problem))
            {
                return WriteErrorAsync(context, 400, "bad-request", $"where '{condition}': {problem}");
            }

            filters.Add(filter);
        }

        var query = new DocumentQuery
        {
            KeyPrefix = context.Request.Query["prefix"].ToString(),
            Filters = filters,
            Limit = int.TryParse(context.Request.Query["limit"], CultureInfo.InvariantCulture, out int limit) && limit > 0 ? limit : 1000,
        };
        List<EdgeDocument> documents = _database.Scan(Route(context, "collection"), query).ToList();
        return WriteJsonAsync(context, 200, writer =>
        {
            writer.WriteStartArray();
            foreach (EdgeDocument document in documents)
            {
                writer.WriteStartObject();
                writer.WriteString("key", document.Key);
                writer.WritePropertyName("doc");
                writer.WriteRawValue(document.Utf8Json.Span, skipInputValidation: true);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        });
    }

    private Task ListSeriesAsync(HttpContext context)
    {
        IReadOnlyList<TimeSeriesInfo> series = _database.ListSeries();
        return WriteJsonAsync(context, 200, writer =>
        {
            writer.WriteStartArray();
            foreach (TimeSeriesInfo info in series)
            {
                writer.WriteStartObject();
                writer.WriteString("name", info.Name);
                writer.WriteNumber("count", info.Count);
                writer.WriteNumber("first", info.FirstTimestamp);
                writer.WriteNumber("last", info.LastTimestamp);
                writer.WriteNumber("chunkBytes", info.ChunkBytes);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        });
    }

    private async Task AppendReadingsAsync(HttpContext context)
    {
        using JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        var readings = new List<TimeSeriesReading>();
        JsonElement root = body.RootElement;
        if (root.ValueKind == JsonValueKind.Object)
        {
            readings.Add(ReadReading(root));
        }
        else if (root.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in root.EnumerateArray())
            {
                readings.Add(ReadReading(item));
            }
        }
        else
        {
            throw new FormatException("the body must be [[ts, value], ...], [{\"ts\":..,\"value\":..}, ...] or one such object");
        }

        TimeSeriesAppendResult result = await _database.AppendAsync(Route(context, "series"), readings.ToArray(), context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, 200, writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("added", result.Added);
            writer.WriteNumber("replaced", result.Replaced);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static TimeSeriesReading ReadReading(JsonElement item)
    {
        if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() == 2)
        {
            return new TimeSeriesReading(item[0].GetInt64(), item[1].GetDouble());
        }

        if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("ts", out JsonElement ts) && item.TryGetProperty("value", out JsonElement value))
        {
            return new TimeSeriesReading(ts.GetInt64(), value.GetDouble());
        }

        throw new FormatException("a reading is [ts, value] or {\"ts\": ms, \"value\": number}");
    }

    private Task ReadSeriesAsync(HttpContext context)
    {
        string series = Route(context, "series");
        long from = long.TryParse(context.Request.Query["from"], CultureInfo.InvariantCulture, out long f) ? f : long.MinValue;
        long to = long.TryParse(context.Request.Query["to"], CultureInfo.InvariantCulture, out long t) ? t : long.MaxValue;
        if (double.TryParse(context.Request.Query["bucket"], CultureInfo.InvariantCulture, out double bucketSeconds))
        {
            if (bucketSeconds <= 0)
            {
                return WriteErrorAsync(context, 400, "bad-request", "bucket must be a positive number of seconds");
            }

            List<TimeSeriesBucket> buckets = _database.Downsample(series, from, to, TimeSpan.FromSeconds(bucketSeconds));
            return WriteJsonAsync(context, 200, writer =>
            {
                writer.WriteStartArray();
                foreach (TimeSeriesBucket bucket in buckets)
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("start", bucket.Start);
                    writer.WriteNumber("count", bucket.Count);
                    WriteNumber(writer, "min", bucket.Min);
                    WriteNumber(writer, "max", bucket.Max);
                    WriteNumber(writer, "avg", bucket.Average);
                    WriteNumber(writer, "first", bucket.First);
                    WriteNumber(writer, "last", bucket.Last);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            });
        }

        List<TimeSeriesReading> readings = _database.ReadRange(series, from, to);
        return WriteJsonAsync(context, 200, writer =>
        {
            writer.WriteStartArray();
            foreach (TimeSeriesReading reading in readings)
            {
                writer.WriteStartArray();
                writer.WriteNumberValue(reading.Timestamp);
                WriteNumberValue(writer, reading.Value);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        });
    }

    private async Task UpsertVectorAsync(HttpContext context)
    {
        using JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        float[] vector = ReadVector(body.RootElement);
        string documentKey = body.RootElement.TryGetProperty("documentKey", out JsonElement key) ? key.GetString() ?? "" : Route(context, "id");
        WriteReceipt receipt = await _database.UpsertVectorAsync(Route(context, "collection"), Route(context, "id"), vector, documentKey, context.RequestAborted).ConfigureAwait(false);
        await WriteReceiptAsync(context, receipt).ConfigureAwait(false);
    }

    private async Task SearchVectorsAsync(HttpContext context)
    {
        using JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        float[] query = ReadVector(body.RootElement);
        int k = body.RootElement.TryGetProperty("k", out JsonElement kElement) ? kElement.GetInt32() : 10;
        if (k is < 1 or > 10_000)
        {
            throw new FormatException("k must be 1..10000");
        }

        string? prefix = body.RootElement.TryGetProperty("keyPrefix", out JsonElement p) ? p.GetString() : null;
        Core.Vectors.VectorMatch[] matches = _database.SearchVectors(Route(context, "collection"), query, k, new Core.Vectors.VectorSearchOptions { KeyPrefix = prefix });
        await WriteJsonAsync(context, 200, writer =>
        {
            writer.WriteStartArray();
            foreach (Core.Vectors.VectorMatch match in matches)
            {
                writer.WriteStartObject();
                writer.WriteString("id", match.Id);
                writer.WriteString("documentKey", match.DocumentKey);
                writer.WriteNumber("distance", match.Distance);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private static float[] ReadVector(JsonElement body)
    {
        if (!body.TryGetProperty("vector", out JsonElement array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("the body needs \"vector\": [numbers]");
        }

        var vector = new float[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            vector[i++] = item.GetSingle();
        }

        return vector;
    }

    // JSON has no NaN or infinities; they are written as strings so nothing is lost.
    private static void WriteNumber(Utf8JsonWriter writer, string name, double value)
    {
        writer.WritePropertyName(name);
        WriteNumberValue(writer, value);
    }

    private static void WriteNumberValue(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Writes a JSON response built by <paramref name="write"/>.</summary>
    public static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Writes <c>{"error": code, "message": text}</c> with the given status.</summary>
    public static Task WriteErrorAsync(HttpContext context, int status, string code, string message) => WriteJsonAsync(context, status, writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("error", code);
        writer.WriteString("message", message);
        writer.WriteEndObject();
    });

    private static Task WriteTextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(text);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
