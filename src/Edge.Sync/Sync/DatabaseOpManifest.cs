using CortexEdge.Core;
using CortexEdge.Core.Documents;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// The replication manifest applied to <see cref="EdgeDatabase"/> ops as they go on the wire
/// (<see cref="DatabaseOpPayload"/> format). Only document ops name a collection; other kinds
/// travel unchanged. An op that must not leave is replaced by a <see cref="WalRecordKind.WithheldOp"/>
/// with the same origin, sequence and HLC, so the receiver's sequence of that origin stays dense.
/// </summary>
internal static class DatabaseOpManifest
{
    /// <summary>The collection a document op writes; false for other kinds (and withheld ops).</summary>
    public static bool TryGetCollection(in SyncOp op, out string collection)
    {
        collection = string.Empty;
        ReadOnlySpan<byte> payload = op.Payload.Span;
        return payload.Length > 1 && (WalRecordKind)payload[0] == WalRecordKind.Document && DocumentOperation.TryReadCollection(payload[1..], out collection);
    }

    /// <summary>
    /// The op to put on the wire under <paramref name="manifest"/>: unchanged, stripped of the
    /// collection's local-only fields, or withheld. Returns false (and leaves <paramref name="wire"/>
    /// unset) when the collection is held back for its schema version: nothing from it on may leave yet.
    /// </summary>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.StoreFailure"/>: a document op in the log does not decode.</exception>
    public static bool TryPrepare(in SyncOp op, ManifestFilter? manifest, out SyncOp wire)
    {
        wire = op;
        if (manifest is null || !TryGetCollection(op, out string collection))
        {
            return true;
        }

        switch (manifest.Classify(collection, out CollectionRule rule))
        {
            case ManifestDecision.HoldBack:
                return false;
            case ManifestDecision.Drop:
                wire = Withheld(op);
                return true;
            case ManifestDecision.SendStripped:
                wire = Strip(op, collection, rule);
                return true;
            default:
                return true;
        }
    }

    /// <summary>The withheld stand-in of <paramref name="op"/>: same origin, sequence, HLC and LSN; no content.</summary>
    public static SyncOp Withheld(in SyncOp op) => op with { Flags = SyncOpFlags.None, Payload = WithheldPayload };

    private static readonly byte[] WithheldPayload = [(byte)WalRecordKind.WithheldOp];

    private static SyncOp Strip(in SyncOp op, string collection, CollectionRule rule)
    {
        DocumentOperation operation;
        try
        {
            operation = DocumentOperation.Decode(op.Payload.Span[1..]);
        }
        catch (EdgeException ex)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"op {op.Origin:X16}#{op.Seq} of collection '{collection}' does not decode: {ex.Message}", ex);
        }

        DocumentOperation stripped = operation.WithoutFields(rule.LocalOnlyFields);
        if (ReferenceEquals(stripped, operation))
        {
            return op;
        }

        if (stripped.Fields.Count == 0 && operation.Kind is DocumentOperationKind.Patch or DocumentOperationKind.Crdt)
        {
            return Withheld(op); // it changed only local-only fields: nothing of it leaves
        }

        byte[] body = stripped.Encode();
        byte[] payload = new byte[1 + body.Length];
        payload[0] = (byte)WalRecordKind.Document;
        body.CopyTo(payload.AsSpan(1));
        return op with { Payload = payload };
    }
}
