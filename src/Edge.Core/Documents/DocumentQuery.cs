using System.Text.Json;

namespace CortexEdge.Core.Documents;

/// <summary>How a <see cref="DocumentFilter"/> compares a field with its operand.</summary>
public enum DocumentFilterOperator
{
    /// <summary>Field equals the operand (same JSON type and value; numbers compare numerically).</summary>
    Equal,

    /// <summary>Field is present and differs from the operand.</summary>
    NotEqual,

    /// <summary>Field is less than the operand (numbers with numbers, strings with strings, ordinal).</summary>
    LessThan,

    /// <summary>Field is less than or equal to the operand.</summary>
    LessThanOrEqual,

    /// <summary>Field is greater than the operand.</summary>
    GreaterThan,

    /// <summary>Field is greater than or equal to the operand.</summary>
    GreaterThanOrEqual,
}

/// <summary>
/// A condition on one top-level field. A document without the field, or with a value of another
/// JSON type than the operand (for the ordering operators), does not match.
/// </summary>
public sealed class DocumentFilter
{
    private readonly JsonElement _operand;

    /// <summary>Creates a filter; <paramref name="operand"/> is copied.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.QueryInvalid"/>: empty field name, or an ordering operator with an operand that is not a number or a string.</exception>
    public DocumentFilter(string field, DocumentFilterOperator op, JsonElement operand)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (field.Length == 0)
        {
            throw new EdgeException(EdgeErrorCode.QueryInvalid, "A filter needs a field name.");
        }

        if (op is not (DocumentFilterOperator.Equal or DocumentFilterOperator.NotEqual) && operand.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
        {
            throw new EdgeException(EdgeErrorCode.QueryInvalid, $"Filter on '{field}': operator {op} needs a number or a string operand; got {operand.ValueKind}.");
        }

        if (!Enum.IsDefined(op))
        {
            throw new EdgeException(EdgeErrorCode.QueryInvalid, $"Filter on '{field}': unknown operator {(int)op}.");
        }

        Field = field;
        Operator = op;
        _operand = operand.Clone();
    }

    /// <summary>The top-level field compared.</summary>
    public string Field { get; }

    /// <summary>The comparison.</summary>
    public DocumentFilterOperator Operator { get; }

    /// <summary>The value compared against.</summary>
    public JsonElement Operand => _operand;

    /// <summary>Field equals <paramref name="json"/> (a JSON literal such as <c>"\"on\""</c>, <c>21.5</c>, <c>true</c>).</summary>
    public static DocumentFilter Equal(string field, string json) => new(field, DocumentFilterOperator.Equal, ParseOperand(json));

    /// <summary>Creates a filter from a JSON literal operand.</summary>
    public static DocumentFilter Create(string field, DocumentFilterOperator op, string json) => new(field, op, ParseOperand(json));

    /// <summary>true when <paramref name="document"/> (a JSON object) satisfies the condition.</summary>
    public bool Matches(JsonElement document)
    {
        if (document.ValueKind != JsonValueKind.Object || !document.TryGetProperty(Field, out JsonElement value))
        {
            return false;
        }

        int? order = CompareValues(value, _operand);
        return Operator switch
        {
            DocumentFilterOperator.Equal => order == 0,
            DocumentFilterOperator.NotEqual => order != 0,
            DocumentFilterOperator.LessThan => order < 0,
            DocumentFilterOperator.LessThanOrEqual => order <= 0,
            DocumentFilterOperator.GreaterThan => order > 0,
            _ => order >= 0,
        };
    }

    /// <summary>Orders two JSON values of the same kind; null when they are not comparable (different kinds, or unordered kinds that differ).</summary>
    private static int? CompareValues(JsonElement left, JsonElement right)
    {
        if (left.ValueKind != right.ValueKind)
        {
            bool bothBoolean = left.ValueKind is JsonValueKind.True or JsonValueKind.False && right.ValueKind is JsonValueKind.True or JsonValueKind.False;
            return bothBoolean ? 1 : null;
        }

        switch (left.ValueKind)
        {
            case JsonValueKind.Number:
                if (left.TryGetDecimal(out decimal leftDecimal) && right.TryGetDecimal(out decimal rightDecimal))
                {
                    return leftDecimal.CompareTo(rightDecimal);
                }

                return left.GetDouble().CompareTo(right.GetDouble());
            case JsonValueKind.String:
                return string.CompareOrdinal(left.GetString(), right.GetString());
            case JsonValueKind.True:
            case JsonValueKind.False:
            case JsonValueKind.Null:
                return 0;
            default:
                // Objects and arrays: equal only when structurally equal; never ordered.
                return JsonElement.DeepEquals(left, right) ? 0 : null;
        }
    }

    private static JsonElement ParseOperand(string json)
    {
        try
        {
            using JsonDocument parsed = JsonDocument.Parse(json);
            return parsed.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw new EdgeException(EdgeErrorCode.QueryInvalid, $"Filter operand '{json}' is not a JSON value: {exception.Message}", exception);
        }
    }
}

/// <summary>What <c>EdgeDatabase.Scan</c> returns: documents of one collection, in key order, limited by prefix, filters and count.</summary>
public sealed class DocumentQuery
{
    /// <summary>Only keys starting with this (ordinal); empty for all.</summary>
    public string KeyPrefix { get; init; } = "";

    /// <summary>Conditions every returned document satisfies (AND).</summary>
    public IReadOnlyList<DocumentFilter> Filters { get; init; } = [];

    /// <summary>Most documents to return; <see cref="int.MaxValue"/> for all.</summary>
    public int Limit { get; init; } = int.MaxValue;
}
