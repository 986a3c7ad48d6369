using System.Text;
using Microsoft.Win32.SafeHandles;

namespace CortexEdge.Agent.Policy;

/// <summary>
/// Reads single-value sysfs/procfs attribute files. Missing files are a normal outcome (not every
/// driver exposes every attribute); unreadable files (EINVAL from a down interface's
/// <c>carrier</c>, EACCES, ENODATA) are reported as a problem naming the file, never thrown.
/// </summary>
internal static class SysfsAttribute
{
    /// <summary>sysfs attributes are at most one page; a larger fake file is truncated, never over-read.</summary>
    public const int AttributeBytesMax = 4096;

    /// <summary>Reads and trims the file; false when it is missing or unreadable (the latter adds a problem).</summary>
    public static bool TryRead(string path, List<string> problems, out string value)
    {
        value = "";
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            Span<byte> buffer = stackalloc byte[AttributeBytesMax];
            int total = 0;
            while (total < buffer.Length)
            {
                // sysfs files report a size of 4096 whatever they hold, so read until end of file.
                int read = RandomAccess.Read(handle, buffer[total..], total);
                if (read == 0)
                    break;
                total += read;
            }
            value = Encoding.UTF8.GetString(buffer[..total]).Trim();
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (IOException exception)
        {
            problems.Add($"{path}: unreadable ({exception.Message})");
            return false;
        }
        catch (UnauthorizedAccessException exception)
        {
            problems.Add($"{path}: access denied ({exception.Message})");
            return false;
        }
    }

    /// <summary>Reads an integer attribute; a present but malformed or out-of-range value adds a problem.</summary>
    public static long? ReadInteger(string path, List<string> problems, long minimum = long.MinValue, long maximum = long.MaxValue)
    {
        if (!TryRead(path, problems, out string text))
            return null;
        if (!long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long value))
        {
            problems.Add($"{path}: '{Shorten(text)}' is not an integer");
            return null;
        }
        if (value < minimum || value > maximum)
        {
            problems.Add($"{path}: {value} is outside {minimum}..{maximum}");
            return null;
        }
        return value;
    }

    /// <summary>Keeps a malformed value readable in a problem message without dumping a whole file.</summary>
    public static string Shorten(string text)
    {
        const int Max = 40;
        var builder = new StringBuilder(Math.Min(text.Length, Max + 3));
        foreach (char c in text.AsSpan(0, Math.Min(text.Length, Max)))
            builder.Append(char.IsControl(c) ? '?' : c);
        if (text.Length > Max)
            builder.Append("...");
        return builder.ToString();
    }
}
