using System.Buffers;
using System.Text.Json;
using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Documents;

/// <summary>
/// The state (or a delta) of one non-LWW document field: a <see cref="DocumentFieldType"/> and the
/// CRDT behind it, over UTF-8 JSON values. Counters of both kinds are kept as a
/// <see cref="PnCounter"/> so that deleting the document can reset them (a G-Counter field only
/// accepts positive increments from the API). Encoding: the type byte, then the CRDT's encoding.
/// Not thread-safe.
/// </summary>
internal sealed class DocumentCrdtField
{
    private static readonly CrdtValueCodec<byte[]> Json = CrdtValueCodecs.Bytes;

    private PnCounter? _counter;
    private MvRegister<byte[]>? _register;
    private OrSet<byte[]>? _orSet;
    private AddWinsSet<byte[]>? _addWinsSet;

    private DocumentFieldType _type;

    private DocumentCrdtField(DocumentFieldType type)
    {
        _type = type;
    }

    public DocumentFieldType Type => _type;

    /// <summary>True when the field shows in the document's JSON: a non-zero counter, a non-empty set, a written register.</summary>
    public bool IsVisible => _type switch
    {
        DocumentFieldType.GCounter or DocumentFieldType.PnCounter => _counter!.Value != 0,
        DocumentFieldType.MvRegister => _register!.SiblingCount > 0,
        DocumentFieldType.OrSet => _orSet!.Count > 0,
        _ => _addWinsSet!.Count > 0,
    };

    /// <summary>The register's concurrent values as JSON (empty for other types).</summary>
    public IReadOnlyList<byte[]> Siblings => _register?.Values ?? [];

    /// <summary>The counter's value (0 for other types).</summary>
    public long CounterValue => _counter?.Value ?? 0;

    public static DocumentCrdtField Create(DocumentFieldType type)
    {
        var field = new DocumentCrdtField(type);
        field.Initialize();
        return field;
    }

    public DocumentCrdtField Clone()
    {
        var copy = new DocumentCrdtField(_type)
        {
            _counter = _counter?.Clone(),
            _register = _register?.Clone(),
            _orSet = _orSet?.Clone(),
            _addWinsSet = _addWinsSet?.Clone(),
        };
        return copy;
    }

    public DocumentCrdtField Increment(ulong replica, long amount) => Delta(_counter!.Increment(replica, amount));

    public DocumentCrdtField Write(ulong replica, byte[] json) => Delta(_register!.Write(replica, json));

    public DocumentCrdtField Add(ulong replica, byte[] json) =>
        _type == DocumentFieldType.OrSet ? Delta(_orSet!.Add(replica, json)) : Delta(_addWinsSet!.Add(replica, json));

    public DocumentCrdtField Remove(byte[] json) =>
        _type == DocumentFieldType.OrSet ? Delta(_orSet!.Remove(json)) : Delta(_addWinsSet!.Remove(json));

    /// <summary>
    /// The delete rule: removes everything this replica has observed (counter back to 0 by a
    /// compensating update, set emptied, register siblings superseded); concurrent updates it has
    /// not observed survive the merge. Returns the delta, or null when there is nothing to reset.
    /// </summary>
    public DocumentCrdtField? Reset(ulong replica) => _type switch
    {
        DocumentFieldType.GCounter or DocumentFieldType.PnCounter => _counter!.Value == 0 ? null : Delta(_counter.Increment(replica, -_counter.Value)),
        DocumentFieldType.MvRegister => _register!.SiblingCount == 0 ? null : Delta(_register.Clear()),
        DocumentFieldType.OrSet => _orSet!.Count == 0 ? null : Delta(_orSet.Clear()),
        _ => _addWinsSet!.Count == 0 ? null : Delta(_addWinsSet.Clear()),
    };

    /// <summary>
    /// Joins <paramref name="other"/> in. Two types for one field (replicas that declared the
    /// collection differently) resolve deterministically: the greater type's state is kept.
    /// </summary>
    public CrdtMergeOutcome Merge(DocumentCrdtField other)
    {
        if (other._type != _type)
        {
            if (other._type < _type)
            {
                return CrdtMergeOutcome.Unchanged;
            }

            _type = other._type;
            Initialize();
        }

        return _type switch
        {
            DocumentFieldType.GCounter or DocumentFieldType.PnCounter => _counter!.Merge(other._counter!),
            DocumentFieldType.MvRegister => _register!.Merge(other._register!),
            DocumentFieldType.OrSet => _orSet!.Merge(other._orSet!),
            _ => _addWinsSet!.Merge(other._addWinsSet!),
        };
    }

    /// <summary>Writes the field's JSON value: a number, an array of elements (byte order), or a register value (with siblings, the greatest in byte order; read all with GetSiblings).</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        switch (_type)
        {
            case DocumentFieldType.GCounter or DocumentFieldType.PnCounter:
                writer.WriteNumberValue(_counter!.Value);
                break;
            case DocumentFieldType.MvRegister:
                writer.WriteRawValue(_register!.Values.Max(Json)!, skipInputValidation: true);
                break;
            default:
                byte[][] elements = [.. _type == DocumentFieldType.OrSet ? _orSet!.Elements : _addWinsSet!.Elements];
                Array.Sort(elements, Json);
                writer.WriteStartArray();
                foreach (byte[] element in elements)
                {
                    writer.WriteRawValue(element, skipInputValidation: true);
                }

                writer.WriteEndArray();
                break;
        }
    }

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(32);
        buffer.GetSpan(1)[0] = (byte)_type;
        buffer.Advance(1);
        switch (_type)
        {
            case DocumentFieldType.GCounter or DocumentFieldType.PnCounter:
                _counter!.Encode(buffer);
                break;
            case DocumentFieldType.MvRegister:
                _register!.Encode(buffer);
                break;
            case DocumentFieldType.OrSet:
                _orSet!.Encode(buffer);
                break;
            default:
                _addWinsSet!.Encode(buffer);
                break;
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes <see cref="Encode"/>'s output; every value must be one valid JSON value.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtMalformed"/>.</exception>
    public static DocumentCrdtField Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty || encoded[0] is (byte)DocumentFieldType.LwwRegister or > (byte)DocumentFieldType.AddWinsSet)
        {
            throw new EdgeException(EdgeErrorCode.CrdtMalformed, $"malformed CRDT field: type byte {(encoded.IsEmpty ? "missing" : encoded[0].ToString(System.Globalization.CultureInfo.InvariantCulture))} is not a CRDT field type");
        }

        var field = new DocumentCrdtField((DocumentFieldType)encoded[0]);
        ReadOnlySpan<byte> body = encoded[1..];
        switch (field._type)
        {
            case DocumentFieldType.GCounter or DocumentFieldType.PnCounter:
                field._counter = PnCounter.Decode(body);
                break;
            case DocumentFieldType.MvRegister:
                field._register = MvRegister<byte[]>.Decode(body, Json);
                CheckJson(field._register.Values);
                break;
            case DocumentFieldType.OrSet:
                field._orSet = OrSet<byte[]>.Decode(body, Json);
                CheckJson(field._orSet.Elements);
                break;
            default:
                field._addWinsSet = AddWinsSet<byte[]>.Decode(body, Json);
                CheckJson(field._addWinsSet.Elements);
                break;
        }

        return field;
    }

    /// <summary>Checks that <paramref name="value"/> is exactly one JSON value (what the API accepts as an element or register value).</summary>
    public static bool IsSingleJsonValue(ReadOnlySpan<byte> value)
    {
        try
        {
            var reader = new Utf8JsonReader(value, isFinalBlock: true, state: default);
            if (!reader.Read())
            {
                return false;
            }

            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void CheckJson(IEnumerable<byte[]> values)
    {
        foreach (byte[] value in values)
        {
            if (!IsSingleJsonValue(value))
            {
                throw new EdgeException(EdgeErrorCode.CrdtMalformed, "malformed CRDT field: a value is not a single JSON value");
            }
        }
    }

    private DocumentCrdtField Delta<T>(T crdt)
        where T : class
    {
        var delta = new DocumentCrdtField(_type);
        switch (crdt)
        {
            case PnCounter counter:
                delta._counter = counter;
                break;
            case MvRegister<byte[]> register:
                delta._register = register;
                break;
            case OrSet<byte[]> orSet:
                delta._orSet = orSet;
                break;
            case AddWinsSet<byte[]> addWinsSet:
                delta._addWinsSet = addWinsSet;
                break;
        }

        return delta;
    }

    private void Initialize()
    {
        _counter = null;
        _register = null;
        _orSet = null;
        _addWinsSet = null;
        switch (_type)
        {
            case DocumentFieldType.GCounter or DocumentFieldType.PnCounter:
                _counter = new PnCounter();
                break;
            case DocumentFieldType.MvRegister:
                _register = new MvRegister<byte[]>(Json);
                break;
            case DocumentFieldType.OrSet:
                _orSet = new OrSet<byte[]>(Json);
                break;
            case DocumentFieldType.AddWinsSet:
                _addWinsSet = new AddWinsSet<byte[]>(Json);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(_type), _type, "not a CRDT field type");
        }
    }
}
