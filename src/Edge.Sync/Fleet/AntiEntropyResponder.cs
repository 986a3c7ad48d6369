namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The answering side of anti-entropy: builds its digest at the depth the verifier asks for (once
/// per depth, from <see cref="IAntiEntropySource"/>) and answers digest and bucket requests.
/// Pure apart from reading the source. Not thread-safe.
/// </summary>
public sealed class AntiEntropyResponder
{
    private readonly IAntiEntropySource _source;
    private MerkleDigest? _digest;

    /// <summary>Creates a responder over <paramref name="source"/>.</summary>
    public AntiEntropyResponder(IAntiEntropySource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
    }

    /// <summary>Creates a responder over an already built digest (requests at another depth rebuild from it).</summary>
    public AntiEntropyResponder(MerkleDigest digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        _digest = digest;
        _source = new DigestSource(digest);
    }

    /// <summary>The reply to <paramref name="request"/>.</summary>
    /// <exception cref="FleetException">AntiEntropyUnexpectedReply: the message is not a request, or names a node the tree lacks.</exception>
    public AntiEntropyMessage Answer(AntiEntropyMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Kind == AntiEntropyMessageKind.DocumentRequest)
        {
            if (_source is not IAntiEntropyDocumentSource documents)
            {
                throw Invalid("this peer does not hand out documents for repair");
            }

            var reply = new AntiEntropyDocument[request.Keys.Count];
            for (int index = 0; index < reply.Length; index++)
            {
                reply[index] = documents.GetDocument(request.Keys[index]);
            }

            return AntiEntropyMessage.DocumentReply(request.Depth, reply);
        }

        if (_digest is null || _digest.Depth != request.Depth)
        {
            _digest = MerkleDigest.Build(_source, request.Depth);
        }

        MerkleDigest digest = _digest;
        switch (request.Kind)
        {
            case AntiEntropyMessageKind.DigestRequest:
            {
                int width = request.Level == 0 ? 1 : MerkleDigest.Fanout;
                ReadOnlySpan<ulong> level = digest.GetLevel(request.Level);
                var hashes = new ulong[request.Indices.Count * width];
                int position = 0;
                foreach (int parent in request.Indices)
                {
                    int first = parent * width;
                    if (parent < 0 || first + width > level.Length)
                    {
                        throw Invalid($"node {parent} does not exist above level {request.Level}");
                    }

                    level.Slice(first, width).CopyTo(hashes.AsSpan(position));
                    position += width;
                }

                return AntiEntropyMessage.DigestReply(digest.Depth, request.Level, hashes);
            }

            case AntiEntropyMessageKind.BucketRequest:
            {
                var counts = new int[request.Indices.Count];
                var items = new List<AntiEntropyItem>();
                for (int index = 0; index < counts.Length; index++)
                {
                    int leaf = request.Indices[index];
                    if (leaf < 0 || leaf >= digest.LeafCount)
                    {
                        throw Invalid($"leaf {leaf} does not exist");
                    }

                    ReadOnlySpan<AntiEntropyItem> bucket = digest.GetBucket(leaf);
                    counts[index] = bucket.Length;
                    foreach (AntiEntropyItem item in bucket)
                    {
                        items.Add(item);
                    }
                }

                return AntiEntropyMessage.BucketReply(digest.Depth, counts, items.ToArray());
            }

            default:
                throw Invalid($"{request.Kind} is not a request");
        }
    }

    private static FleetException Invalid(string detail) => new(FleetErrorCode.AntiEntropyUnexpectedReply, $"Anti-entropy request: {detail}.");

    private sealed class DigestSource(MerkleDigest digest) : IAntiEntropySource
    {
        public IEnumerable<AntiEntropyItem> ReadItems()
        {
            for (int leaf = 0; leaf < digest.LeafCount; leaf++)
            {
                foreach (AntiEntropyItem item in digest.GetBucket(leaf).ToArray())
                {
                    yield return item;
                }
            }
        }
    }
}
