using System.Buffers.Binary;
using CortexEdge.Core.Binary;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.State;

/// <summary>
/// Reads which collections (documents, vectors) or series (time series) an operation writes,
/// straight from its WAL record body, without decoding the rest or allocating: sync uses it to
/// tell priority collections from the others. Only the names are read, so a malformed body simply
/// yields no match (the full decoders report the damage where the op is applied).
/// </summary>
public static class OperationTargets
{
    /// <summary>
    /// Calls <paramref name="match"/> with each collection or series name the op of
    /// <paramref name="kind"/> with body <paramref name="body"/> (after the operation header)
    /// writes, until it returns true. Returns whether it did; false for kinds that write no
    /// named target and for bodies too damaged to read a name from.
    /// </summary>
    public static bool Any(WalRecordKind kind, ReadOnlySpan<byte> body, OperationTargetMatch match)
    {
        ArgumentNullException.ThrowIfNull(match);
        if (body.Length < 2)
        {
            return false;
        }

        int position = 2; // version, operation kind
        switch (kind)
        {
            case WalRecordKind.Document:
                return TryReadVarIntName(body, ref position, out ReadOnlySpan<byte> collection) && match(collection);
            case WalRecordKind.Vector:
                if (body.Length < 4)
                {
                    return false;
                }

                int length = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
                return length <= body.Length - 4 && match(body.Slice(4, length));
            case WalRecordKind.TimeSeriesBatch:
                return AnySeries(body, match);
            default:
                return false;
        }
    }

    private static bool AnySeries(ReadOnlySpan<byte> body, OperationTargetMatch match)
    {
        int position = 2;
        if (body[1] != (byte)TimeSeries.TimeSeriesOperationKind.Append) // drop-before and delete name one series
        {
            return TryReadVarIntName(body, ref position, out ReadOnlySpan<byte> single) && match(single);
        }

        if (!VarInt.TryRead(body[position..], out ulong groups, out int read))
        {
            return false;
        }

        position += read;
        for (ulong g = 0; g < groups; g++)
        {
            if (!TryReadVarIntName(body, ref position, out ReadOnlySpan<byte> series))
            {
                return false;
            }

            if (match(series))
            {
                return true;
            }

            if (g + 1 == groups || !VarInt.TryRead(body[position..], out ulong count, out read))
            {
                return false;
            }

            position += read;
            if (!TimeSeries.TimeSeriesBatchCodec.TrySkipReadings(body, ref position, count))
            {
                return false;
            }
        }

        return false;
    }

    private static bool TryReadVarIntName(ReadOnlySpan<byte> body, ref int position, out ReadOnlySpan<byte> name)
    {
        name = default;
        if (position >= body.Length || !VarInt.TryRead(body[position..], out ulong length, out int read) || length > (ulong)(body.Length - position - read))
        {
            return false;
        }

        name = body.Slice(position + read, (int)length);
        position += read + (int)length;
        return true;
    }
}
