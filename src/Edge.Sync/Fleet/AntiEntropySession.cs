namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The verifying side of anti-entropy as a pure state machine (no transport, no clock): it asks
/// the peer for the root hash, then level by level only for the children of nodes whose hashes
/// differ, then for the items of the differing leaf buckets, and names every differing key.
/// Agreeing replicas cost one round trip of a few dozen bytes; each differing key costs about
/// one path of 16-hash groups plus its bucket.
/// </summary>
/// <remarks>
/// Drive it with <see cref="Start"/>, then <see cref="Receive"/> for each reply until it returns
/// null; <see cref="Result"/> is then set. Not thread-safe: one exchange at a time.
/// </remarks>
public sealed class AntiEntropySession
{
    private readonly MerkleDigest _local;
    private readonly int _batchIndexCountMax;
    private readonly List<int> _differing = [];
    private readonly List<MerkleRange> _differingLeaves = [];
    private readonly List<KeyDifference> _differingKeys = [];
    private List<int> _pending = [];
    private int _pendingOffset;
    private int _level;
    private bool _buckets;
    private AntiEntropyMessage? _outstanding;
    private int _roundTrips;

    /// <summary>Creates a session comparing <paramref name="local"/> with a peer that digests at the same depth.</summary>
    /// <param name="local">This replica's digest.</param>
    /// <param name="batchIndexCountMax">Most indices per request (1..<see cref="AntiEntropyCodec.IndexCountMax"/>).</param>
    public AntiEntropySession(MerkleDigest local, int batchIndexCountMax = 1024)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchIndexCountMax, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchIndexCountMax, AntiEntropyCodec.IndexCountMax);
        _local = local;
        _batchIndexCountMax = batchIndexCountMax;
    }

    /// <summary>The outcome, once <see cref="Receive"/> has returned null; otherwise null.</summary>
    public AntiEntropyResult? Result { get; private set; }

    /// <summary>The first request (the root hash).</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public AntiEntropyMessage Start()
    {
        if (_outstanding is not null || Result is not null || _roundTrips > 0)
        {
            throw new InvalidOperationException("The anti-entropy session has already started.");
        }

        _level = 0;
        _pending = [0];
        _pendingOffset = 0;
        return NextRequest()!;
    }

    /// <summary>Takes the peer's reply to the last request; returns the next request, or null when the comparison is complete.</summary>
    /// <exception cref="FleetException">AntiEntropyUnexpectedReply: the reply does not answer the outstanding request.</exception>
    public AntiEntropyMessage? Receive(AntiEntropyMessage reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        AntiEntropyMessage request = _outstanding ?? throw new InvalidOperationException("No anti-entropy request is outstanding.");
        _outstanding = null;
        _roundTrips++;
        if (reply.Depth != _local.Depth)
        {
            throw Unexpected($"the peer digests at depth {reply.Depth}, this side at {_local.Depth}");
        }

        if (request.Kind == AntiEntropyMessageKind.DigestRequest)
        {
            CompareHashes(request, reply);
        }
        else
        {
            CompareBuckets(request, reply);
        }

        return NextRequest();
    }

    private void CompareHashes(AntiEntropyMessage request, AntiEntropyMessage reply)
    {
        int width = request.Level == 0 ? 1 : MerkleDigest.Fanout;
        if (reply.Kind != AntiEntropyMessageKind.DigestReply || reply.Level != request.Level || reply.Hashes.Count != request.Indices.Count * width)
        {
            throw Unexpected($"expected a digest reply for level {request.Level} with {request.Indices.Count * width} hashes, got {reply.Kind} level {reply.Level} with {reply.Hashes.Count}");
        }

        ReadOnlySpan<ulong> local = _local.GetLevel(request.Level);
        int position = 0;
        foreach (int parent in request.Indices)
        {
            for (int child = 0; child < width; child++)
            {
                int index = (parent * width) + child;
                if (local[index] != reply.Hashes[position++])
                {
                    _differing.Add(index);
                }
            }
        }
    }

    private void CompareBuckets(AntiEntropyMessage request, AntiEntropyMessage reply)
    {
        if (reply.Kind != AntiEntropyMessageKind.BucketReply || reply.BucketCounts.Count != request.Indices.Count)
        {
            throw Unexpected($"expected a bucket reply for {request.Indices.Count} buckets, got {reply.Kind} with {reply.BucketCounts.Count}");
        }

        int position = 0;
        var remote = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var found = new List<KeyDifference>();
        for (int bucket = 0; bucket < request.Indices.Count; bucket++)
        {
            var range = new MerkleRange(_local.Depth, request.Indices[bucket]);
            remote.Clear();
            for (int count = 0; count < reply.BucketCounts[bucket]; count++)
            {
                AntiEntropyItem item = reply.Items[position++];
                if (!remote.TryAdd(item.Key, item.Hash))
                {
                    throw Unexpected($"the peer sent key '{item.Key}' twice in {range}");
                }
            }

            found.Clear();
            foreach (AntiEntropyItem item in _local.GetBucket(range.Index))
            {
                if (!remote.Remove(item.Key, out ulong peerHash))
                {
                    found.Add(new KeyDifference(item.Key, KeyDifferenceKind.MissingAtPeer, range));
                }
                else if (peerHash != item.Hash)
                {
                    found.Add(new KeyDifference(item.Key, KeyDifferenceKind.Different, range));
                }
            }

            foreach (string key in remote.Keys)
            {
                found.Add(new KeyDifference(key, KeyDifferenceKind.MissingLocally, range));
            }

            found.Sort((left, right) => string.CompareOrdinal(left.Key, right.Key));
            _differingKeys.AddRange(found);
        }
    }

    private AntiEntropyMessage? NextRequest()
    {
        while (true)
        {
            if (_pendingOffset < _pending.Count)
            {
                int count = Math.Min(_batchIndexCountMax, _pending.Count - _pendingOffset);
                int[] indices = _pending.GetRange(_pendingOffset, count).ToArray();
                _pendingOffset += count;
                _outstanding = _buckets
                    ? AntiEntropyMessage.BucketRequest(_local.Depth, indices)
                    : AntiEntropyMessage.DigestRequest(_local.Depth, _level, indices);
                return _outstanding;
            }

            if (_buckets || _differing.Count == 0)
            {
                Result = new AntiEntropyResult(_differingLeaves.ToArray(), _differingKeys.ToArray(), _roundTrips);
                return null;
            }

            // Every request of this level is answered: descend into the differing nodes.
            _pending = [.. _differing];
            _pending.Sort();
            _differing.Clear();
            _pendingOffset = 0;
            if (_level == _local.Depth)
            {
                foreach (int leaf in _pending)
                {
                    _differingLeaves.Add(new MerkleRange(_local.Depth, leaf));
                }

                _buckets = true;
            }
            else
            {
                _level++;
            }
        }
    }

    private static FleetException Unexpected(string detail) =>
        new(FleetErrorCode.AntiEntropyUnexpectedReply, $"Anti-entropy: {detail}.");
}
