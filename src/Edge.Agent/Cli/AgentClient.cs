using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CortexEdge.Agent.Daemon;

namespace CortexEdge.Agent.Cli;

/// <summary>
/// Lets CLI verbs reach a running agent through its local API when the agent holds the data
/// directory's lock. The agent announces itself in <see cref="AgentHost.EndpointFileName"/>.
/// </summary>
internal sealed class AgentClient : IDisposable
{
    private readonly HttpClient _http;

    private AgentClient(Uri baseAddress, string? token)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>
    /// Finds the agent serving <paramref name="directory"/>: its endpoint file exists and the
    /// process it names is alive. False (and no problem) when no agent runs there.
    /// </summary>
    public static bool TryConnect(string directory, out AgentClient? client, out string? problem)
    {
        client = null;
        problem = null;
        string path = Path.Combine(directory, AgentHost.EndpointFileName);
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            using JsonDocument endpoint = JsonDocument.Parse(File.ReadAllBytes(path));
            int pid = endpoint.RootElement.GetProperty("pid").GetInt32();
            if (!Directory.Exists($"/proc/{pid}"))
            {
                return false; // left behind by an agent that was killed; the lock is free
            }

            string url = endpoint.RootElement.GetProperty("url").GetString()!;
            string? token = endpoint.RootElement.TryGetProperty("tokenFile", out JsonElement tokenFile)
                ? File.ReadAllText(tokenFile.GetString()!).Trim()
                : null;
            client = new AgentClient(new Uri(url), token);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or UriFormatException)
        {
            problem = $"an agent announced itself in {path} but cannot be reached: {ex.Message}";
            return false;
        }
    }

    /// <summary>Sends a request; returns the status code and body text.</summary>
    public async Task<(int Status, string Body)> SendAsync(HttpMethod method, string relativeUri, string? jsonBody, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, relativeUri);
        if (jsonBody is not null)
        {
            request.Content = new StringContent(jsonBody, Encoding.UTF8, "application/json");
        }

        using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Prints the agent's answer: the body on success, its error message on failure.</summary>
    public static async Task<int> ReportAsync((int Status, string Body) reply, TextWriter output, TextWriter error)
    {
        if (reply.Status is >= 200 and < 300)
        {
            await output.WriteLineAsync(reply.Body).ConfigureAwait(false);
            return 0;
        }

        string message = reply.Body;
        try
        {
            using JsonDocument document = JsonDocument.Parse(reply.Body);
            message = document.RootElement.GetProperty("message").GetString() ?? reply.Body;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Not our error shape: print the body as it came.
        }

        await error.WriteLineAsync($"error (agent, HTTP {reply.Status}): {message}").ConfigureAwait(false);
        return reply.Status == 404 ? 1 : 2;
    }

    public void Dispose() => _http.Dispose();
}
