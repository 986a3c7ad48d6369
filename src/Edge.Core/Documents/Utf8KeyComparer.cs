namespace CortexEdge.Core.Documents;

/// <summary>
/// Orders strings by Unicode code point, which is the byte order of their UTF-8 encodings and so
/// SQLite's BINARY collation of TEXT. Plain ordinal comparison orders by UTF-16 code unit, which puts
/// surrogate pairs (U+10000 and up) before U+E000..U+FFFF; merging SQLite rows with in-memory keys
/// needs both sides in one order.
/// </summary>
internal sealed class Utf8KeyComparer : IComparer<string>
{
    public static readonly Utf8KeyComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        int length = Math.Min(x.Length, y.Length);
        for (int index = 0; index < length; index++)
        {
            char a = x[index];
            char b = y[index];
            if (a != b)
            {
                return Fix(a) - Fix(b);
            }
        }

        return x.Length - y.Length;
    }

    // Surrogates (D800-DFFF) move above E000-FFFF; E000-FFFF move down by 0x800: code point order.
    private static int Fix(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
}
