namespace CortexEdge.Agent.Policy;

/// <summary>
/// Turns the byte stream read from a line request's file descriptor into
/// <see cref="GpioLineEvent"/>s. The kernel returns whole records per read, but a pipe (tests) or
/// a short read may split one, so up to <see cref="GpioLineEvent.RecordBytes"/> - 1 bytes are
/// carried over to the next <see cref="Feed"/>. Not thread safe: one reader thread owns it.
/// </summary>
internal sealed class GpioLineEventDecoder
{
    private readonly byte[] _pending = new byte[GpioLineEvent.RecordBytes];
    private int _pendingCount;
    private long _streamOffset;

    /// <summary>Bytes of an incomplete record waiting for the rest.</summary>
    public int PendingBytes => _pendingCount;

    /// <summary>
    /// Decodes every complete record in <paramref name="chunk"/> (after any carried-over bytes),
    /// passing each to <paramref name="onEvent"/>. Returns false at the first malformed record with
    /// <paramref name="error"/> naming its byte offset in the stream; the decoder is then unusable.
    /// </summary>
    public bool Feed(ReadOnlySpan<byte> chunk, Action<GpioLineEvent> onEvent, out string? error)
    {
        error = null;
        if (_pendingCount > 0)
        {
            int take = Math.Min(GpioLineEvent.RecordBytes - _pendingCount, chunk.Length);
            chunk[..take].CopyTo(_pending.AsSpan(_pendingCount));
            _pendingCount += take;
            chunk = chunk[take..];
            if (_pendingCount < GpioLineEvent.RecordBytes)
                return true;
            if (!DecodeOne(_pending, onEvent, out error))
                return false;
            _pendingCount = 0;
        }
        while (chunk.Length >= GpioLineEvent.RecordBytes)
        {
            if (!DecodeOne(chunk[..GpioLineEvent.RecordBytes], onEvent, out error))
                return false;
            chunk = chunk[GpioLineEvent.RecordBytes..];
        }
        chunk.CopyTo(_pending);
        _pendingCount = chunk.Length;
        return true;
    }

    private bool DecodeOne(ReadOnlySpan<byte> record, Action<GpioLineEvent> onEvent, out string? error)
    {
        if (!GpioLineEvent.TryDecode(record, out GpioLineEvent lineEvent, out string? reason))
        {
            error = $"malformed line event at byte {_streamOffset}: {reason}";
            return false;
        }
        _streamOffset += GpioLineEvent.RecordBytes;
        onEvent(lineEvent);
        error = null;
        return true;
    }
}
