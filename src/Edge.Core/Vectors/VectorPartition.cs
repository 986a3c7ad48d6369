namespace CortexEdge.Core.Vectors;

/// <summary>
/// The quantized members of one coarse partition, stored as parallel arrays so a scan walks
/// contiguous memory: the slot of each member, its int8 codes (residual from the partition's
/// centroid) split in two planes, its scale and optional sign code. Removal swaps the last member
/// into the hole, so positions are dense. A partition built with identity slots keeps no slot per
/// member (<see cref="Slots"/> is null): the member at position j is slot j, an invariant the
/// collection keeps for a flat index by moving its last slot into a deleted one (4 bytes less per
/// vector). Not thread-safe: the collection's lock guards it.
/// </summary>
/// <remarks>
/// The codes of each member are split at <see cref="HeadLength"/>: the head plane holds the first
/// components of every member contiguously, the tail plane the rest. An L2 or cosine scan streams
/// only the head plane: the quantized distance over the head is a lower bound of the whole one (a
/// sum of squares), so a member whose head alone already exceeds the current candidate threshold
/// is skipped without its tail ever being read from memory, which at scan sizes is the bound on
/// speed. The head's squared code norm is kept per member as 16 bits, rounded down (a lower bound
/// stays a lower bound), so the head pass does one integer dot per member; members that pass get
/// their exact norms from their codes.
/// </remarks>
internal sealed class VectorPartition
{
    /// <summary>Partitions grow by 1/GrowthDivisor of their capacity, and are sized that much above their count when built.</summary>
    internal const int GrowthDivisor = 32;

    private readonly int _dimension;
    private readonly int _head;
    private readonly int _signWords;

    internal VectorPartition(int dimension, bool signCodes, int capacity, bool identitySlots = false)
    {
        _dimension = dimension;
        _head = HeadLengthFor(dimension);
        _signWords = signCodes ? ScalarQuantizer.SignWordCount(dimension) : 0;
        capacity = Math.Max(capacity, 4);
        Slots = identitySlots ? null : new int[capacity];
        HeadCodes = new sbyte[(long)capacity * _head];
        TailCodes = new sbyte[(long)capacity * (dimension - _head)];
        Scales = new ushort[capacity];
        HeadNorms = new ushort[capacity];
        SignCodes = new ulong[capacity * _signWords];
    }

    /// <summary>Components per member in the head plane (the rest are in the tail plane).</summary>
    internal int HeadLength => _head;

    /// <summary>Components per member in the tail plane.</summary>
    internal int TailLength => _dimension - _head;

    /// <summary>Members in the partition.</summary>
    internal int Count { get; private set; }

    /// <summary>Collection slot of each member; null for identity slots (member j is slot j).</summary>
    internal int[]? Slots { get; private set; }

    /// <summary>Members the arrays hold room for.</summary>
    internal int Capacity => Scales.Length;

    /// <summary>The collection slot of the member at <paramref name="position"/>.</summary>
    internal int SlotAt(int position) => Slots is { } slots ? slots[position] : position;

    /// <summary>Int8 codes of the first <see cref="HeadLength"/> components, that many per member.</summary>
    internal sbyte[] HeadCodes { get; private set; }

    /// <summary>Int8 codes of the remaining <see cref="TailLength"/> components, that many per member.</summary>
    internal sbyte[] TailCodes { get; private set; }

    /// <summary>
    /// Quantization scale per member in 16 bits (bfloat16: the upper half of the float32, see
    /// <see cref="ScalarQuantizer.QuantizeResidualCompactScale"/>); <see cref="ScaleAt"/> widens one.
    /// </summary>
    internal ushort[] Scales { get; private set; }

    /// <summary>The scale of the member at <paramref name="position"/>.</summary>
    internal float ScaleAt(int position) => ScalarQuantizer.ScaleFromBits(Scales[position]);

    /// <summary>
    /// Squared norm of each member's head codes shifted right by <see cref="HeadNormShift"/> (rounded
    /// down): <c>HeadNorms[j] &lt;&lt; HeadNormShift</c> never exceeds the exact norm.
    /// </summary>
    internal ushort[] HeadNorms { get; private set; }

    /// <summary>Right shift that fits the largest head norm (HeadLength * 127^2) in 16 bits.</summary>
    internal int HeadNormShift => HeadNormShiftFor(_head);

    /// <summary>Sign codes, <see cref="SignWords"/> per member (empty when sign codes are off).</summary>
    internal ulong[] SignCodes { get; private set; }

    /// <summary>64-bit words per sign code; 0 when sign codes are off.</summary>
    internal int SignWords => _signWords;

    /// <summary>Bytes held by the arrays (capacity, not count).</summary>
    internal long AllocatedBytes =>
        ((Slots?.Length ?? 0) * 4L) + HeadCodes.LongLength + TailCodes.LongLength + (Scales.Length * 2L) + (HeadNorms.Length * 2L) + (SignCodes.Length * 8L);

    /// <summary>Right shift that fits <paramref name="headLength"/> * 127^2 in 16 bits.</summary>
    internal static int HeadNormShiftFor(int headLength) =>
        Math.Max(0, 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)headLength * ScalarQuantizer.CodeMax * ScalarQuantizer.CodeMax) - 16);

    /// <summary>
    /// Head length for <paramref name="dimension"/>: about half, rounded up to a multiple of 32 (whole
    /// SIMD steps); the whole vector below 64 components, where a split saves too little to pay.
    /// </summary>
    internal static int HeadLengthFor(int dimension) => dimension < 64 ? dimension : Math.Min(dimension, ((dimension / 2) + 31) & ~31);

    internal Span<sbyte> HeadAt(int position) => HeadCodes.AsSpan(position * _head, _head);

    internal Span<sbyte> TailAt(int position) => TailCodes.AsSpan(position * (_dimension - _head), _dimension - _head);

    internal Span<ulong> SignCodeAt(int position) => SignCodes.AsSpan(position * _signWords, _signWords);

    /// <summary>
    /// Encodes <paramref name="vector"/> (already normalized for cosine) against
    /// <paramref name="centroid"/> into the member at <paramref name="position"/>.
    /// </summary>
    internal void Encode(int position, int slot, ReadOnlySpan<float> vector, ReadOnlySpan<float> centroid)
    {
        if (Slots is { } slots)
        {
            slots[position] = slot;
        }
        else if (slot != position)
        {
            throw new InvalidOperationException($"slot {slot} cannot sit at position {position} of a partition with identity slots");
        }

        sbyte[]? rented = null;
        Span<sbyte> codes = _dimension <= 4096 ? stackalloc sbyte[_dimension] : (rented = System.Buffers.ArrayPool<sbyte>.Shared.Rent(_dimension)).AsSpan(0, _dimension);
        Scales[position] = ScalarQuantizer.QuantizeResidualCompactScale(vector, centroid, codes);
        codes[.._head].CopyTo(HeadAt(position));
        HeadNorms[position] = (ushort)(Int8Kernels.Dot(codes[.._head], codes[.._head]) >> HeadNormShift);
        codes[_head..].CopyTo(TailAt(position));
        if (rented is not null)
        {
            System.Buffers.ArrayPool<sbyte>.Shared.Return(rented);
        }

        if (_signWords > 0)
        {
            ScalarQuantizer.SignBits(vector, centroid, SignCodeAt(position));
        }
    }

    /// <summary>Appends a member and returns its position.</summary>
    internal int Add(int slot, ReadOnlySpan<float> vector, ReadOnlySpan<float> centroid)
    {
        if (Count == Capacity)
        {
            // Grow by a thirty-second: codes dominate memory, and doubling would leave up to half unused
            // (each member is copied about 32 times over the partition's growth, a memcpy that is
            // cheap next to encoding it once; 1M x 128 spends about 0.3 s of its build in them).
            Grow(Capacity + Math.Max(16, Capacity / GrowthDivisor));
        }

        int position = Count++;
        Encode(position, slot, vector, centroid);
        return position;
    }

    /// <summary>Reserves <paramref name="count"/> positions at once for a parallel rebuild.</summary>
    internal void SetCountForRebuild(int count)
    {
        if (count > Capacity)
        {
            Grow(count);
        }

        Count = count;
    }

    /// <summary>
    /// Removes the member at <paramref name="position"/> by moving the last member into it. Returns
    /// the slot that now sits at <paramref name="position"/> (with identity slots: the last member's
    /// slot, which the caller renumbers to <paramref name="position"/>), or -1 when the removed one was last.
    /// </summary>
    internal int RemoveAt(int position)
    {
        System.Diagnostics.Debug.Assert((uint)position < (uint)Count, "position must be inside the partition");
        int last = --Count;
        if (position == last)
        {
            return -1;
        }

        int moved = last;
        if (Slots is { } slots)
        {
            moved = slots[position] = slots[last];
        }

        Scales[position] = Scales[last];
        HeadNorms[position] = HeadNorms[last];
        HeadAt(last).CopyTo(HeadAt(position));
        TailAt(last).CopyTo(TailAt(position));
        if (_signWords > 0)
        {
            SignCodeAt(last).CopyTo(SignCodeAt(position));
        }

        return moved;
    }

    private void Grow(int capacity)
    {
        if (Slots is { } slots)
        {
            Array.Resize(ref slots, capacity);
            Slots = slots;
        }

        sbyte[] head = HeadCodes;
        Array.Resize(ref head, capacity * _head);
        HeadCodes = head;
        sbyte[] tail = TailCodes;
        Array.Resize(ref tail, capacity * (_dimension - _head));
        TailCodes = tail;
        ushort[] scales = Scales;
        Array.Resize(ref scales, capacity);
        Scales = scales;
        ushort[] norms = HeadNorms;
        Array.Resize(ref norms, capacity);
        HeadNorms = norms;
        ulong[] signs = SignCodes;
        Array.Resize(ref signs, capacity * _signWords);
        SignCodes = signs;
    }
}
