namespace CortexEdge.Agent.Tests.Policy.Fakes;

/// <summary>A throwaway directory tree standing in for /sys or /proc; deleted on dispose.</summary>
internal sealed class FakeSysfsTree : IDisposable
{
    public FakeSysfsTree()
    {
        Root = Path.Combine(Path.GetTempPath(), "ce-policy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Writes a file (with the trailing newline sysfs puts after every value).</summary>
    public FakeSysfsTree File(string relative, string content, bool newline = true)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, newline ? content + "\n" : content);
        return this;
    }

    public FakeSysfsTree Dir(string relative)
    {
        Directory.CreateDirectory(PathOf(relative));
        return this;
    }

    public FakeSysfsTree Symlink(string relative, string target)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.CreateSymbolicLink(path, target);
        return this;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException exception)
        {
            // A leftover temp directory must not fail a test; say so for whoever looks.
            Console.Error.WriteLine($"FakeSysfsTree: could not delete {Root}: {exception.Message}");
        }
    }
}
