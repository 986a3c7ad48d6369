namespace CortexEdge.Sync.Tests.Infrastructure;

/// <summary>
/// Certificates made with openssl for TLS tests: a CA, a server certificate for 127.0.0.1 and
/// localhost, a client certificate, and an unrelated CA (to check that it is refused). Made once
/// per test run.
/// </summary>
public sealed class MosquittoTlsMaterial
{
    private static readonly Lazy<MosquittoTlsMaterial> s_shared = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), "ce-mqtt-tls-" + Environment.ProcessId);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => System.IO.Directory.Delete(directory, recursive: true);
        return Create(directory);
    });

    private MosquittoTlsMaterial(string directory)
    {
        Directory = directory;
    }

    /// <summary>Material shared by all tests of this process.</summary>
    public static MosquittoTlsMaterial Shared => s_shared.Value;

    public string Directory { get; }

    public string CaFile => Path.Combine(Directory, "ca.crt");

    public string ServerCertificateFile => Path.Combine(Directory, "server.crt");

    public string ServerKeyFile => Path.Combine(Directory, "server.key");

    public string ClientCertificateFile => Path.Combine(Directory, "client.crt");

    public string ClientKeyFile => Path.Combine(Directory, "client.key");

    /// <summary>A CA that signed nothing the broker uses.</summary>
    public string OtherCaFile => Path.Combine(Directory, "other-ca.crt");

    public static MosquittoTlsMaterial Create(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        var material = new MosquittoTlsMaterial(directory);
        string Key(string name) => Path.Combine(directory, name);
        MakeCa(Key("ca"), "CortexEdge Test CA");
        MakeCa(Key("other-ca"), "Unrelated Test CA");
        MakeLeaf(directory, "server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
        MakeLeaf(directory, "client", "ce-test-client", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
        return material;
    }

    private static void MakeCa(string basePath, string commonName) =>
        MosquittoBroker.Run(
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", basePath + ".key", "-out", basePath + ".crt", "-days", "30", "-subj", "/CN=" + commonName,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");

    private static void MakeLeaf(string directory, string name, string commonName, string extensions)
    {
        string basePath = Path.Combine(directory, name);
        File.WriteAllText(basePath + ".ext", extensions);
        MosquittoBroker.Run(
            "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", basePath + ".key", "-out", basePath + ".csr", "-subj", "/CN=" + commonName);
        MosquittoBroker.Run(
            "openssl", "x509", "-req", "-in", basePath + ".csr", "-CA", Path.Combine(directory, "ca.crt"), "-CAkey", Path.Combine(directory, "ca.key"),
            "-CAcreateserial", "-out", basePath + ".crt", "-days", "30", "-extfile", basePath + ".ext");
    }
}
