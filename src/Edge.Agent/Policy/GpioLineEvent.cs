using System.Buffers.Binary;

namespace CortexEdge.Agent.Policy;

/// <summary>
/// One edge event read from a GPIO line request's file descriptor: the kernel's
/// <c>struct gpio_v2_line_event</c> (linux/gpio.h, 48 bytes: u64 timestamp_ns, u32 id, u32 offset,
/// u32 seqno, u32 line_seqno, u32 padding[6]). The uAPI struct is in host byte order; every
/// platform this product targets (arm64, x64) is little endian, so the codec is explicit little endian.
/// </summary>
/// <param name="TimestampNanoseconds">When the edge happened, CLOCK_MONOTONIC nanoseconds unless the request asked for the realtime clock.</param>
/// <param name="Kind">Rising or falling edge (active-low lines are already inverted by the kernel).</param>
/// <param name="LineOffset">The line on the chip the event is for.</param>
/// <param name="Sequence">Sequence number among all lines of the request (starts at 1).</param>
/// <param name="LineSequence">Sequence number on this line (starts at 1); a gap means the kernel dropped events.</param>
public readonly record struct GpioLineEvent(ulong TimestampNanoseconds, GpioLineEventKind Kind, uint LineOffset, uint Sequence, uint LineSequence)
{
    /// <summary>Size of one encoded record, <c>sizeof(struct gpio_v2_line_event)</c>.</summary>
    public const int RecordBytes = 48;

    internal const int TimestampOffset = 0;
    internal const int IdOffset = 8;
    internal const int LineOffsetOffset = 12;
    internal const int SequenceOffset = 16;
    internal const int LineSequenceOffset = 20;
    internal const int PaddingOffset = 24;

    /// <summary>
    /// Decodes one record from the start of <paramref name="source"/>. Returns false with
    /// <paramref name="error"/> when fewer than <see cref="RecordBytes"/> bytes are given or the
    /// event id is neither edge; reads no byte past <see cref="RecordBytes"/>. Padding is
    /// reserved for future kernels and ignored.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> source, out GpioLineEvent lineEvent, out string? error)
    {
        lineEvent = default;
        if (source.Length < RecordBytes)
        {
            error = $"a gpio_v2_line_event needs {RecordBytes} bytes, got {source.Length}";
            return false;
        }
        uint id = BinaryPrimitives.ReadUInt32LittleEndian(source[IdOffset..]);
        if (id is not ((uint)GpioLineEventKind.RisingEdge or (uint)GpioLineEventKind.FallingEdge))
        {
            error = $"event id {id} is neither a rising (1) nor a falling (2) edge";
            return false;
        }
        lineEvent = new GpioLineEvent(
            BinaryPrimitives.ReadUInt64LittleEndian(source[TimestampOffset..]),
            (GpioLineEventKind)id,
            BinaryPrimitives.ReadUInt32LittleEndian(source[LineOffsetOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[SequenceOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[LineSequenceOffset..]));
        error = null;
        return true;
    }

    /// <summary>Encodes this event as the kernel would write it (padding zeroed) into the first <see cref="RecordBytes"/> bytes of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="RecordBytes"/>.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < RecordBytes)
            throw new ArgumentException($"A gpio_v2_line_event needs {RecordBytes} bytes, the destination has {destination.Length}.", nameof(destination));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[TimestampOffset..], TimestampNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[IdOffset..], (uint)Kind);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[LineOffsetOffset..], LineOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[SequenceOffset..], Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[LineSequenceOffset..], LineSequence);
        destination[PaddingOffset..RecordBytes].Clear();
    }
}
