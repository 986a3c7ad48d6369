using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace CortexEdge.Agent.Api;

/// <summary>Settings of <see cref="LocalApi"/>.</summary>
public sealed record LocalApiOptions
{
    /// <summary>ADDRESS:PORT to listen on; port 0 picks a free one. Non-loopback requires <see cref="Token"/>.</summary>
    public string Bind { get; init; } = "127.0.0.1:8080";

    /// <summary>Bearer token clients must send (null: none required, loopback only).</summary>
    public string? Token { get; init; }

    /// <summary>Largest request body accepted, in bytes.</summary>
    public long RequestBytesMax { get; init; } = 4 << 20;

    /// <summary>Produces the /metrics text (Prometheus format).</summary>
    public Func<string>? Metrics { get; init; }

    /// <summary>Adds routes owned by other parts of the agent (sync status, vector search).</summary>
    public Action<WebApplication>? MapExtra { get; init; }

    /// <summary>Where Kestrel logs (null: nowhere).</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
