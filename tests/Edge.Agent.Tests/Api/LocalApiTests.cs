using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CortexEdge.Agent.Api;
using CortexEdge.Core;

namespace CortexEdge.Agent.Tests.Api;

public sealed class LocalApiTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ce-api-").FullName;
    private EdgeDatabase _database = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public Task InitializeAsync()
    {
        _database = EdgeDatabase.Open(Path.Combine(_directory, "db"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _database.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Documents_PutGetPatchScanDelete()
    {
        await using LocalApi api = await LocalApi.StartAsync(_database, new LocalApiOptions { Bind = "127.0.0.1:0" });
        Uri b = api.Address;
        Assert.Equal(HttpStatusCode.OK, (await _http.PutAsync(new Uri(b, "v1/docs/assets/p1"), Json("""{"site":"n","rpm":10}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PutAsync(new Uri(b, "v1/docs/assets/p2"), Json("""{"site":"s","rpm":20}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PatchAsync(new Uri(b, "v1/docs/assets/p1"), Json("""{"rpm":11}"""))).StatusCode);

        using JsonDocument p1 = JsonDocument.Parse(await _http.GetStringAsync(new Uri(b, "v1/docs/assets/p1")));
        Assert.Equal(11, p1.RootElement.GetProperty("rpm").GetInt32());
        Assert.Equal("n", p1.RootElement.GetProperty("site").GetString());

        using JsonDocument scan = JsonDocument.Parse(await _http.GetStringAsync(new Uri(b, "v1/docs/assets?where=site=s")));
        Assert.Equal("p2", Assert.Single(scan.RootElement.EnumerateArray()).GetProperty("key").GetString());

        Assert.Equal(HttpStatusCode.OK, (await _http.DeleteAsync(new Uri(b, "v1/docs/assets/p2"))).StatusCode);
        HttpResponseMessage missing = await _http.GetAsync(new Uri(b, "v1/docs/assets/p2"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("not-found", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task BadInput_GetsClearErrors()
    {
        await using LocalApi api = await LocalApi.StartAsync(_database, new LocalApiOptions { Bind = "127.0.0.1:0" });
        HttpResponseMessage notJson = await _http.PutAsync(new Uri(api.Address, "v1/docs/a/k"), Json("{nope"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        HttpResponseMessage notObject = await _http.PutAsync(new Uri(api.Address, "v1/docs/a/k"), Json("[1]"));
        Assert.Equal(HttpStatusCode.BadRequest, notObject.StatusCode);
        HttpResponseMessage badWhere = await _http.GetAsync(new Uri(api.Address, "v1/docs/a?where=novalue"));
        Assert.Equal(HttpStatusCode.BadRequest, badWhere.StatusCode);
        HttpResponseMessage badReading = await _http.PostAsync(new Uri(api.Address, "v1/series/s"), Json("""[["x"]]"""));
        Assert.Equal(HttpStatusCode.BadRequest, badReading.StatusCode);
    }

    [Fact]
    public async Task TimeSeries_AppendRangeDownsample()
    {
        await using LocalApi api = await LocalApi.StartAsync(_database, new LocalApiOptions { Bind = "127.0.0.1:0" });
        Uri b = api.Address;
        HttpResponseMessage append = await _http.PostAsync(new Uri(b, "v1/series/boiler.temp"), Json("[[1000,1],[2000,3],[61000,5],{\"ts\":62000,\"value\":7}]"));
        Assert.Equal(HttpStatusCode.OK, append.StatusCode);
        using JsonDocument range = JsonDocument.Parse(await _http.GetStringAsync(new Uri(b, "v1/series/boiler.temp?from=0&to=10000")));
        Assert.Equal(2, range.RootElement.GetArrayLength());
        using JsonDocument buckets = JsonDocument.Parse(await _http.GetStringAsync(new Uri(b, "v1/series/boiler.temp?bucket=60")));
        JsonElement[] items = buckets.RootElement.EnumerateArray().ToArray();
        Assert.Equal(2, items.Length);
        Assert.Equal(2.0, items[0].GetProperty("avg").GetDouble());
        Assert.Equal(6.0, items[1].GetProperty("avg").GetDouble());
        using JsonDocument list = JsonDocument.Parse(await _http.GetStringAsync(new Uri(b, "v1/series")));
        Assert.Equal("boiler.temp", Assert.Single(list.RootElement.EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Token_RequiredOnEveryRouteButHealthz()
    {
        await using LocalApi api = await LocalApi.StartAsync(_database, new LocalApiOptions { Bind = "127.0.0.1:0", Token = "s3cret" });
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri(api.Address, "healthz"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.GetAsync(new Uri(api.Address, "v1/stats"))).StatusCode);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, new Uri(api.Address, "v1/stats"));
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.SendAsync(wrong)).StatusCode);
        using var right = new HttpRequestMessage(HttpMethod.Get, new Uri(api.Address, "v1/stats"));
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(right)).StatusCode);
    }

    [Fact]
    public async Task NonLoopbackBind_WithoutToken_IsRefused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => LocalApi.StartAsync(_database, new LocalApiOptions { Bind = "0.0.0.0:0" }));
        Assert.Contains("requires a token", error.Message);
    }

    [Fact]
    public async Task Metrics_ServedInPrometheusFormat()
    {
        var metrics = new CortexEdge.Agent.Metrics.AgentMetrics(_database);
        await using LocalApi api = await LocalApi.StartAsync(_database, new LocalApiOptions { Bind = "127.0.0.1:0", Metrics = metrics.Render });
        HttpResponseMessage response = await _http.GetAsync(new Uri(api.Address, "metrics"));
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE ce_wal_used_bytes gauge", text);
        Assert.Matches(@"(?m)^ce_wal_quota_bytes \d+$", text);
    }

    [Fact]
    public async Task Vectors_UpsertAndSearchNearestFirst()
    {
        await _database.CreateVectorCollectionAsync("faults", 4, CortexEdge.Core.Vectors.VectorMetric.L2);
        await using LocalApi api = await LocalApi.StartAsync(_database, new LocalApiOptions { Bind = "127.0.0.1:0" });
        Assert.Equal(HttpStatusCode.OK, (await _http.PutAsync(new Uri(api.Address, "v1/vectors/faults/bearing"), Json("""{"vector":[1,0,0,0],"documentKey":"f/bearing"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PutAsync(new Uri(api.Address, "v1/vectors/faults/imbalance"), Json("""{"vector":[0,1,0,0],"documentKey":"f/imbalance"}"""))).StatusCode);
        HttpResponseMessage response = await _http.PostAsync(new Uri(api.Address, "v1/vectors/faults/search"), Json("""{"vector":[0.9,0.1,0,0],"k":2}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using JsonDocument matches = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(["bearing", "imbalance"], matches.RootElement.EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        HttpResponseMessage bad = await _http.PutAsync(new Uri(api.Address, "v1/vectors/faults/x"), Json("""{"vector":[1,2]}"""));
        Assert.NotEqual(HttpStatusCode.OK, bad.StatusCode);
        Assert.Contains("VectorInvalid", await bad.Content.ReadAsStringAsync());
    }
}
