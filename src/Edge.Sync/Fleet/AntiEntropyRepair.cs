using System.Buffers;
using System.Text.Json;
using CortexEdge.Core;
using CortexEdge.Core.Documents;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// Repairs, on the verifying replica, every key an anti-entropy comparison found different: it
/// fetches the peer's state of those keys and keeps the newer version by HLC (the peer's on a tie:
/// the leader holds the fleet's order). Each repair is an ordinary local write — the winner's
/// document put again — so the normal sync upload and the leader's merge carry it to the peer and,
/// from there, to every node. Nothing is written behind the engine's back, and every key is
/// reported with what was done.
/// </summary>
/// <remarks>
/// Versions include deletes (<see cref="EdgeDatabase.GetLastChange"/>): a document deleted later on
/// one side is deleted on the other, never resurrected; a row lost behind the engine's back has no
/// version at all and takes the peer's. Local-only fields of the local copy are kept when the
/// peer's version is taken.
/// </remarks>
public static class AntiEntropyRepair
{
    /// <summary>Repairs <paramref name="result"/>'s differing keys of <paramref name="collection"/> in <paramref name="local"/>.</summary>
    /// <param name="local">The verifying replica's database.</param>
    /// <param name="collection">The collection compared.</param>
    /// <param name="result">What the comparison found.</param>
    /// <param name="fetchFromPeer">The peer's state of the given keys, in order.</param>
    /// <param name="localOnlyFields">The collection's local-only fields (kept from the local copy); null for none.</param>
    /// <param name="cancellationToken">Cancels between writes.</param>
    /// <returns>Per differing key, what was done, in the result's order.</returns>
    /// <exception cref="EdgeException">A local write failed.</exception>
    public static async Task<IReadOnlyList<RepairedKey>> RepairAsync(EdgeDatabase local, string collection, AntiEntropyResult result,
        Func<IReadOnlyList<string>, CancellationToken, Task<IReadOnlyList<AntiEntropyDocument>>> fetchFromPeer,
        IReadOnlyCollection<string>? localOnlyFields = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(fetchFromPeer);
        if (result.DifferingKeys.Count == 0)
        {
            return [];
        }

        string[] keys = result.DifferingKeys.Select(d => d.Key).ToArray();
        IReadOnlyList<AntiEntropyDocument> peer = await fetchFromPeer(keys, cancellationToken).ConfigureAwait(false);
        if (peer.Count != keys.Length)
        {
            throw new FleetException(FleetErrorCode.AntiEntropyUnexpectedReply, $"repair of collection '{collection}': asked the peer for {keys.Length} documents, got {peer.Count}.");
        }

        var repaired = new List<RepairedKey>(keys.Length);
        for (int index = 0; index < keys.Length; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            AntiEntropyDocument theirs = peer[index];
            KeyDifference difference = result.DifferingKeys[index];
            local.TryGet(collection, keys[index], out EdgeDocument? ours);
            // A local delete counts with its time (only then is the state read a second time).
            ulong oursVersion = ours?.LastChange.Time ?? local.GetLastChange(collection, keys[index]).Time;
            RepairAction action;
            if (theirs.Version >= oursVersion && (theirs.Present || ours is not null))
            {
                if (theirs.Present)
                {
                    await local.PutAsync(collection, keys[index], WithLocalFields(theirs.Utf8Json, ours, localOnlyFields), cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await local.DeleteAsync(collection, keys[index], cancellationToken).ConfigureAwait(false);
                }

                action = RepairAction.TookPeerVersion;
            }
            else if (theirs.Version < oursVersion)
            {
                if (ours is not null)
                {
                    await local.PutAsync(collection, keys[index], ours.ToJsonString(), cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await local.DeleteAsync(collection, keys[index], cancellationToken).ConfigureAwait(false); // our later delete, sent again
                }

                action = RepairAction.ResentLocalVersion;
            }
            else
            {
                action = RepairAction.NothingToDo;
            }

            repaired.Add(new RepairedKey(keys[index], difference.Kind, action));
        }

        return repaired;
    }

    private static string WithLocalFields(ReadOnlyMemory<byte> peerJson, EdgeDocument? ours, IReadOnlyCollection<string>? localOnlyFields)
    {
        if (ours is null || localOnlyFields is null || localOnlyFields.Count == 0)
        {
            return System.Text.Encoding.UTF8.GetString(peerJson.Span);
        }

        using JsonDocument theirs = JsonDocument.Parse(peerJson);
        using JsonDocument mine = ours.Parse();
        var output = new ArrayBufferWriter<byte>(peerJson.Length + 64);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            foreach (JsonProperty property in theirs.RootElement.EnumerateObject())
            {
                if (!localOnlyFields.Contains(property.Name, StringComparer.Ordinal))
                {
                    property.WriteTo(writer);
                }
            }

            foreach (JsonProperty property in mine.RootElement.EnumerateObject())
            {
                if (localOnlyFields.Contains(property.Name, StringComparer.Ordinal))
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
