namespace CortexEdge.Agent.Configuration;

/// <summary>One problem in a configuration file: the JSON path of the field and what is wrong.</summary>
/// <param name="Path">JSON path, e.g. <c>$.ingest.rules[2].topic</c>.</param>
/// <param name="Message">What is wrong and what is expected.</param>
public sealed record ConfigError(string Path, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Path}: {Message}";
}
