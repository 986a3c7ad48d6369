namespace CortexEdge.Core.Vectors;

/// <summary>
/// The quantized members of one coarse partition, stored as parallel arrays so a scan walks
/// contiguous memory: the slot of each member, its int8 codes (residual from the partition's
/// centroid), scale, squared residual norm and optional sign code. Removal swaps the last member
/// into the hole, so positions are dense. Not thread-safe: the collection's lock guards it.
/// </summary>
internal sealed class VectorPartition
{
    private readonly int _dimension;
    private readonly int _signWords;

    internal VectorPartition(int dimension, bool signCodes, int capacity)
    {
        _dimension = dimension;
        _signWords = signCodes ? ScalarQuantizer.SignWordCount(dimension) : 0;
        capacity = Math.Max(capacity, 4);
        Slots = new int[capacity];
        Codes = new sbyte[capacity * dimension];
        Scales = new float[capacity];
        ResidualNorms = new float[capacity];
        SignCodes = new ulong[capacity * _signWords];
    }

    /// <summary>A partition over arrays read from an index file (<paramref name="count"/> members used).</summary>
    internal VectorPartition(int dimension, int signWords, int count, int[] slots, sbyte[] codes, float[] scales, float[] norms, ulong[] signCodes)
    {
        _dimension = dimension;
        _signWords = signWords;
        Count = count;
        Slots = slots;
        Codes = codes;
        Scales = scales;
        ResidualNorms = norms;
        SignCodes = signCodes;
    }

    /// <summary>Members in the partition.</summary>
    internal int Count { get; private set; }

    /// <summary>Collection slot of each member.</summary>
    internal int[] Slots { get; private set; }

    /// <summary>Int8 codes, <c>dimension</c> per member.</summary>
    internal sbyte[] Codes { get; private set; }

    /// <summary>Quantization scale per member.</summary>
    internal float[] Scales { get; private set; }

    /// <summary>Exact squared L2 norm of each member's residual (used by L2 and cosine estimates).</summary>
    internal float[] ResidualNorms { get; private set; }

    /// <summary>Sign codes, <see cref="SignWords"/> per member (empty when sign codes are off).</summary>
    internal ulong[] SignCodes { get; private set; }

    /// <summary>64-bit words per sign code; 0 when sign codes are off.</summary>
    internal int SignWords => _signWords;

    /// <summary>Bytes held by the arrays (capacity, not count).</summary>
    internal long AllocatedBytes =>
        (Slots.Length * 4L) + Codes.Length + (Scales.Length * 4L) + (ResidualNorms.Length * 4L) + (SignCodes.Length * 8L);

    internal Span<sbyte> CodesAt(int position) => Codes.AsSpan(position * _dimension, _dimension);

    internal Span<ulong> SignCodeAt(int position) => SignCodes.AsSpan(position * _signWords, _signWords);

    /// <summary>
    /// Encodes <paramref name="vector"/> (already normalized for cosine) against
    /// <paramref name="centroid"/> into the member at <paramref name="position"/>.
    /// </summary>
    internal void Encode(int position, int slot, ReadOnlySpan<float> vector, ReadOnlySpan<float> centroid)
    {
        Slots[position] = slot;
        Scales[position] = ScalarQuantizer.QuantizeResidual(vector, centroid, CodesAt(position));
        ResidualNorms[position] = FloatKernels.SquaredL2(vector, centroid);
        if (_signWords > 0)
        {
            ScalarQuantizer.SignBits(vector, centroid, SignCodeAt(position));
        }
    }

    /// <summary>Appends a member and returns its position.</summary>
    internal int Add(int slot, ReadOnlySpan<float> vector, ReadOnlySpan<float> centroid)
    {
        if (Count == Slots.Length)
        {
            // Grow by a sixteenth: codes dominate memory, and doubling would leave up to half unused
            // (each member is copied about sixteen times over the partition's growth, a memcpy that is
            // cheap next to encoding it once).
            Grow(Slots.Length + Math.Max(16, Slots.Length / 16));
        }

        int position = Count++;
        Encode(position, slot, vector, centroid);
        return position;
    }

    /// <summary>Reserves <paramref name="count"/> positions at once for a parallel rebuild.</summary>
    internal void SetCountForRebuild(int count)
    {
        if (count > Slots.Length)
        {
            Grow(count);
        }

        Count = count;
    }

    /// <summary>
    /// Removes the member at <paramref name="position"/> by moving the last member into it. Returns
    /// the slot that now sits at <paramref name="position"/>, or -1 when the removed one was last.
    /// </summary>
    internal int RemoveAt(int position)
    {
        System.Diagnostics.Debug.Assert((uint)position < (uint)Count, "position must be inside the partition");
        int last = --Count;
        if (position == last)
        {
            return -1;
        }

        Slots[position] = Slots[last];
        Scales[position] = Scales[last];
        ResidualNorms[position] = ResidualNorms[last];
        CodesAt(last).CopyTo(CodesAt(position));
        if (_signWords > 0)
        {
            SignCodeAt(last).CopyTo(SignCodeAt(position));
        }

        return Slots[position];
    }

    private void Grow(int capacity)
    {
        int[] slots = Slots;
        Array.Resize(ref slots, capacity);
        Slots = slots;
        sbyte[] codes = Codes;
        Array.Resize(ref codes, capacity * _dimension);
        Codes = codes;
        float[] scales = Scales;
        Array.Resize(ref scales, capacity);
        Scales = scales;
        float[] norms = ResidualNorms;
        Array.Resize(ref norms, capacity);
        ResidualNorms = norms;
        ulong[] signs = SignCodes;
        Array.Resize(ref signs, capacity * _signWords);
        SignCodes = signs;
    }
}
