using System.Globalization;

namespace CortexEdge.Agent.Cli;

/// <summary>The <c>--broker HOST:PORT</c> value shared by the sync, replica and fleet commands.</summary>
internal static class BrokerAddress
{
    /// <summary>Splits HOST:PORT; false when the host is empty or the port is not 1..65535.</summary>
    public static bool TryParse(string value, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            port = 0;
            return false;
        }

        host = value[..colon];
        return true;
    }

    /// <summary>Splits HOST:PORT.</summary>
    /// <exception cref="ArgumentException">The value is not HOST:PORT with a port in 1..65535.</exception>
    public static (string Host, int Port) Parse(string value) =>
        TryParse(value, out string host, out int port)
            ? (host, port)
            : throw new ArgumentException($"--broker '{value}' is not HOST:PORT with a port in 1..65535");
}
