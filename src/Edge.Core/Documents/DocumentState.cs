using System.Buffers;
using System.Text.Json;
using CortexEdge.Core.Binary;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Documents;

/// <summary>
/// The CRDT state of one document, an LWW-map: the timestamp of the last put or delete (which hides
/// every older field) and per field the latest value or removal with its timestamp. Applying ops or
/// merging states is commutative, associative and idempotent, so the order ops arrive in (local
/// overlay, checkpoint batches, sync) never changes the result. Fields a collection declares as
/// another CRDT (counters, sets, multi-value registers) are kept beside, as
/// <see cref="DocumentCrdtField"/>s merged by their own join; puts do not touch them and a delete
/// resets what its replica observed (docs/crdt.md).
/// </summary>
/// <remarks>Not thread-safe; owners lock around it or clone it.</remarks>
internal sealed class DocumentState
{
    public const byte FormatVersion = 1;

    /// <summary>The encoding with a CRDT field section after the LWW fields (written only when there are CRDT fields).</summary>
    public const byte FormatVersionWithCrdtFields = 2;

    private readonly Dictionary<string, FieldState> _fields;
    private Dictionary<string, DocumentCrdtField>? _crdtFields;

    public DocumentState()
    {
        _fields = new Dictionary<string, FieldState>(StringComparer.Ordinal);
    }

    private DocumentState(DocumentState source)
    {
        _fields = new Dictionary<string, FieldState>(source._fields, StringComparer.Ordinal);
        ClearedAt = source.ClearedAt;
        Deleted = source.Deleted;
        LastChange = source.LastChange;
        if (source._crdtFields is not null)
        {
            _crdtFields = new Dictionary<string, DocumentCrdtField>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, DocumentCrdtField> field in source._crdtFields)
            {
                _crdtFields.Add(field.Key, field.Value.Clone());
            }
        }
    }

    /// <summary>Timestamp of the latest put or delete; fields older than it are invisible.</summary>
    public HlcTimestamp ClearedAt { get; private set; }

    /// <summary>Whether the op at <see cref="ClearedAt"/> was a delete.</summary>
    public bool Deleted { get; private set; }

    /// <summary>The latest timestamp of any op folded in.</summary>
    public HlcTimestamp LastChange { get; private set; }

    /// <summary>Number of field entries kept (visible values and removal markers).</summary>
    public int FieldEntryCount => _fields.Count;

    /// <summary>true when the document is visible: put and not deleted since, or holding a visible field.</summary>
    public bool Exists
    {
        get
        {
            if (ClearedAt != HlcTimestamp.Zero && !Deleted)
            {
                return true;
            }

            foreach (FieldState entry in _fields.Values)
            {
                if (entry.Value is not null && entry.Timestamp >= ClearedAt)
                {
                    return true;
                }
            }

            return _crdtFields is not null && _crdtFields.Values.Any(f => f.IsVisible);
        }
    }

    /// <summary>True when the document holds state for a CRDT field (visible or not).</summary>
    public bool HasCrdtFields => _crdtFields is { Count: > 0 };

    /// <summary>The CRDT field <paramref name="name"/>, or null when it has no state here.</summary>
    public DocumentCrdtField? GetCrdtField(string name) => _crdtFields?.GetValueOrDefault(name);

    /// <summary>Every CRDT field with state, for the delete rule.</summary>
    public IEnumerable<KeyValuePair<string, DocumentCrdtField>> CrdtFields => _crdtFields ?? [];

    public DocumentState Clone() => new(this);

    /// <summary>
    /// Folds an operation stamped <paramref name="timestamp"/> in. The outcome counts conflicts
    /// against this state: LWW field writes older than what is here (dropped on arrival) and
    /// multi-value register siblings created; it is exact only when this is the full state.
    /// </summary>
    public CrdtMergeOutcome Apply(DocumentOperation operation, HlcTimestamp timestamp)
    {
        if (operation.Kind == DocumentOperationKind.MergeState)
        {
            // The state carries its own timestamps; the op's stamp is only where it travelled.
            Merge(Decode(operation.Fields[0].Utf8JsonValue.Span, $"state merge of '{operation.Key}'"));
            return CrdtMergeOutcome.Unchanged;
        }

        LastChange = HlcTimestamp.Max(LastChange, timestamp);
        if (operation.Kind is DocumentOperationKind.Put or DocumentOperationKind.Delete or DocumentOperationKind.CrdtDelete)
        {
            Clear(timestamp, operation.Kind != DocumentOperationKind.Put);
        }

        if (operation.Kind is DocumentOperationKind.Crdt or DocumentOperationKind.CrdtDelete)
        {
            CrdtMergeOutcome outcome = CrdtMergeOutcome.Unchanged;
            foreach (DocumentField field in operation.Fields)
            {
                outcome += MergeCrdtField(field.Name, DocumentCrdtField.Decode(field.Utf8JsonValue.Span));
            }

            Prune();
            return outcome;
        }

        int discarded = 0;
        foreach (DocumentField field in operation.Fields)
        {
            // ">=": a later duplicate of the same name inside one op wins, as in JSON parsers.
            byte[]? value = field.IsRemoval ? null : OwnedBytes(field.Utf8JsonValue);
            if (IsDiscardedOnArrival(field.Name, value, timestamp))
            {
                discarded++;
            }

            SetField(field.Name, new FieldState(timestamp, value), replaceEqual: true);
        }

        Prune();
        return new CrdtMergeOutcome(true, discarded, 0);
    }

    /// <summary>Joins another state into this one.</summary>
    public void Merge(DocumentState other)
    {
        LastChange = HlcTimestamp.Max(LastChange, other.LastChange);
        if (other.ClearedAt != HlcTimestamp.Zero)
        {
            Clear(other.ClearedAt, other.Deleted);
        }

        foreach (KeyValuePair<string, FieldState> field in other._fields)
        {
            SetField(field.Key, field.Value, replaceEqual: false);
        }

        if (other._crdtFields is not null)
        {
            foreach (KeyValuePair<string, DocumentCrdtField> field in other._crdtFields)
            {
                MergeCrdtField(field.Key, field.Value);
            }
        }

        Prune();
    }

    /// <summary>Writes the visible fields as a JSON object, fields in ordinal name order (deterministic across replicas).</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        if (_crdtFields is null)
        {
            string[] names = RentSortedNames();
            try
            {
                for (int i = 0; i < _fields.Count; i++)
                {
                    FieldState field = _fields[names[i]];
                    if (field.Value is not null && field.Timestamp >= ClearedAt)
                    {
                        writer.WritePropertyName(names[i]);
                        writer.WriteRawValue(field.Value, skipInputValidation: true);
                    }
                }
            }
            finally
            {
                ReturnSortedNames(names);
            }
        }
        else
        {
            // Both kinds in one ordinal order; a CRDT field shadows an LWW field of the same name.
            var names = new SortedSet<string>(VisibleFields().Select(f => f.Key), StringComparer.Ordinal);
            names.UnionWith(_crdtFields.Where(f => f.Value.IsVisible).Select(f => f.Key));
            foreach (string name in names)
            {
                writer.WritePropertyName(name);
                if (_crdtFields.TryGetValue(name, out DocumentCrdtField? crdt) && crdt.IsVisible)
                {
                    crdt.WriteJson(writer);
                }
                else
                {
                    writer.WriteRawValue(_fields[name].Value!, skipInputValidation: true);
                }
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>The visible fields' JSON as a UTF-8 array.</summary>
    public byte[] ToJsonUtf8()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteJson(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The visible fields' JSON as a string.</summary>
    public string ToJson() => System.Text.Encoding.UTF8.GetString(ToJsonUtf8());

    /// <summary>Canonical binary encoding (fields in ordinal order) for the SQLite state column.</summary>
    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>(64);
        EncodeTo(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Appends <see cref="Encode"/>'s bytes to <paramref name="output"/>; allocates nothing for LWW-only documents once warm.</summary>
    public void EncodeTo(ArrayBufferWriter<byte> output)
    {
        Span<byte> head = output.GetSpan(1 + HlcTimestamp.EncodedBytes * 2 + 1);
        head[0] = _crdtFields is { Count: > 0 } ? FormatVersionWithCrdtFields : FormatVersion;
        ClearedAt.WriteTo(head[1..]);
        LastChange.WriteTo(head[(1 + HlcTimestamp.EncodedBytes)..]);
        head[1 + (HlcTimestamp.EncodedBytes * 2)] = Deleted ? (byte)1 : (byte)0;
        output.Advance(1 + (HlcTimestamp.EncodedBytes * 2) + 1);
        WriteVarInt(output, (ulong)_fields.Count);
        string[] names = RentSortedNames();
        try
        {
            for (int i = 0; i < _fields.Count; i++)
            {
                string name = names[i];
                FieldState field = _fields[name];
                int nameBytes = DocumentCodec.StrictUtf8.GetByteCount(name);
                WriteVarInt(output, (ulong)nameBytes);
                output.Advance(DocumentCodec.StrictUtf8.GetBytes(name, output.GetSpan(nameBytes)));
                field.Timestamp.WriteTo(output.GetSpan(HlcTimestamp.EncodedBytes));
                output.Advance(HlcTimestamp.EncodedBytes);
                ReadOnlySpan<byte> value = field.Value;
                WriteVarInt(output, (ulong)value.Length);
                output.Write(value);
            }
        }
        finally
        {
            ReturnSortedNames(names);
        }

        if (_crdtFields is { Count: > 0 })
        {
            WriteVarInt(output, (ulong)_crdtFields.Count);
            foreach (KeyValuePair<string, DocumentCrdtField> field in _crdtFields.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                byte[] name = DocumentCodec.StrictUtf8.GetBytes(field.Key);
                WriteVarInt(output, (ulong)name.Length);
                output.Write(name);
                byte[] value = field.Value.Encode();
                WriteVarInt(output, (ulong)value.Length);
                output.Write(value);
            }
        }
    }

    /// <summary>Decodes <see cref="Encode"/>'s output, validating lengths, UTF-8, JSON and order.</summary>
    /// <exception cref="EdgeCorruptionException">DocumentMalformed, naming <paramref name="location"/>.</exception>
    public static DocumentState Decode(ReadOnlySpan<byte> source, string location)
    {
        var reader = new DocumentCodec.SpanReader(source, location);
        byte version = reader.ReadByte();
        if (version is not FormatVersion and not FormatVersionWithCrdtFields)
        {
            throw reader.Error($"unknown document state version {version}");
        }

        var state = new DocumentState
        {
            ClearedAt = new HlcTimestamp(reader.ReadUInt64(), reader.ReadUInt64()),
            LastChange = new HlcTimestamp(reader.ReadUInt64(), reader.ReadUInt64()),
        };
        byte deleted = reader.ReadByte();
        if (deleted > 1)
        {
            throw reader.Error($"deleted flag {deleted}");
        }

        state.Deleted = deleted == 1;
        int count = reader.ReadCount(DocumentLimits.FieldCountMax, "field count");
        string? previous = null;
        for (int index = 0; index < count; index++)
        {
            string name = reader.ReadString(DocumentLimits.FieldNameBytesMax, "field name", allowEmpty: true);
            if (previous is not null && string.CompareOrdinal(previous, name) >= 0)
            {
                throw reader.Error($"field '{name}' is out of order or repeated");
            }

            var timestamp = new HlcTimestamp(reader.ReadUInt64(), reader.ReadUInt64());
            ReadOnlySpan<byte> value = reader.ReadBytes(DocumentLimits.EncodedBytesMax, "field value");
            if (!value.IsEmpty)
            {
                reader.CheckJson(value, name);
            }

            state._fields.Add(name, new FieldState(timestamp, value.IsEmpty ? null : value.ToArray()));
            previous = name;
        }

        if (version == FormatVersionWithCrdtFields)
        {
            int crdtCount = reader.ReadCount(DocumentLimits.FieldCountMax, "CRDT field count");
            if (crdtCount == 0)
            {
                throw reader.Error("version 2 state without CRDT fields");
            }

            state._crdtFields = new Dictionary<string, DocumentCrdtField>(StringComparer.Ordinal);
            previous = null;
            for (int index = 0; index < crdtCount; index++)
            {
                string name = reader.ReadString(DocumentLimits.FieldNameBytesMax, "CRDT field name", allowEmpty: true);
                if (previous is not null && string.CompareOrdinal(previous, name) >= 0)
                {
                    throw reader.Error($"CRDT field '{name}' is out of order or repeated");
                }

                ReadOnlySpan<byte> value = reader.ReadBytes(DocumentLimits.EncodedBytesMax, "CRDT field value");
                reader.CheckCrdtField(value, name);
                state._crdtFields.Add(name, DocumentCrdtField.Decode(value));
                previous = name;
            }
        }

        reader.CheckEnd();
        return state;
    }

    // A decoded op's values are fresh arrays nobody else writes (DocumentCodec.Decode): keep them rather than copy again.
    private static byte[] OwnedBytes(ReadOnlyMemory<byte> value) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(value, out ArraySegment<byte> segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : value.ToArray();

    [ThreadStatic]
    private static string[]? t_sortedNames;

    /// <summary>The LWW field names in ordinal order, in a per-thread array (first <c>_fields.Count</c> entries); give it back with <see cref="ReturnSortedNames"/>.</summary>
    private string[] RentSortedNames()
    {
        string[] names = t_sortedNames ?? new string[16];
        t_sortedNames = null; // a nested use on this thread gets its own array
        if (names.Length < _fields.Count)
        {
            names = new string[Math.Max(_fields.Count, names.Length * 2)];
        }

        _fields.Keys.CopyTo(names, 0);
        Array.Sort(names, 0, _fields.Count, StringComparer.Ordinal);
        return names;
    }

    private static void ReturnSortedNames(string[] names)
    {
        Array.Clear(names);
        if (names.Length <= 1024)
        {
            t_sortedNames = names;
        }
    }

    private IEnumerable<KeyValuePair<string, FieldState>> VisibleFields() =>
        _fields.Where(f => f.Value.Value is not null && f.Value.Timestamp >= ClearedAt).OrderBy(f => f.Key, StringComparer.Ordinal);

    private CrdtMergeOutcome MergeCrdtField(string name, DocumentCrdtField incoming)
    {
        _crdtFields ??= new Dictionary<string, DocumentCrdtField>(StringComparer.Ordinal);
        if (!_crdtFields.TryGetValue(name, out DocumentCrdtField? existing))
        {
            existing = DocumentCrdtField.Create(incoming.Type);
            _crdtFields.Add(name, existing);
        }

        return existing.Merge(incoming);
    }

    // An LWW write that loses to what is already here: an older value, or a put/delete after it.
    // Under causal delivery (the leader relays ops in its commit order) such a write was concurrent
    // with the winner, so this counts only real conflicts. An equal value loses nothing.
    private bool IsDiscardedOnArrival(string name, byte[]? value, HlcTimestamp timestamp)
    {
        if (timestamp < ClearedAt)
        {
            return value is not null;
        }

        return _fields.TryGetValue(name, out FieldState existing)
            && timestamp < existing.Timestamp
            && !existing.Value.AsSpan().SequenceEqual(value);
    }

    private void Clear(HlcTimestamp timestamp, bool deleted)
    {
        if (timestamp > ClearedAt)
        {
            ClearedAt = timestamp;
            Deleted = deleted;
        }
    }

    private void SetField(string name, FieldState value, bool replaceEqual)
    {
        if (!_fields.TryGetValue(name, out FieldState existing) || value.Timestamp > existing.Timestamp || (replaceEqual && value.Timestamp == existing.Timestamp))
        {
            _fields[name] = value;
        }
    }

    /// <summary>Drops fields older than the last put/delete: they can never become visible again (ClearedAt only grows).</summary>
    private void Prune()
    {
        if (ClearedAt == HlcTimestamp.Zero)
        {
            return;
        }

        List<string>? stale = null;
        foreach (KeyValuePair<string, FieldState> field in _fields)
        {
            if (field.Value.Timestamp < ClearedAt)
            {
                (stale ??= []).Add(field.Key);
            }
        }

        if (stale is not null)
        {
            foreach (string name in stale)
            {
                _fields.Remove(name);
            }
        }
    }

    private static void WriteVarInt(ArrayBufferWriter<byte> output, ulong value) =>
        output.Advance(VarInt.Write(output.GetSpan(VarInt.UInt64BytesMax), value));

    private readonly record struct FieldState(HlcTimestamp Timestamp, byte[]? Value);
}
