using System.Buffers;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>What <see cref="EdgeDatabase.ApplyRemoteAsync"/> did with a remote op.</summary>
public enum RemoteApplyStatus
{
    /// <summary>The op was appended, applied and acknowledged.</summary>
    Applied,

    /// <summary>The op (origin, sequence) was applied before; nothing changed.</summary>
    Duplicate,

    /// <summary>The op's sequence is more than one past what is applied from its origin; it was not applied (ask for a resend).</summary>
    Gap,
}

/// <summary>The write path shared by every state module.</summary>
public sealed partial class EdgeDatabase
{
    /// <summary>
    /// Appends one local operation and applies it: stamps the <see cref="OperationHeader"/> (next origin
    /// sequence, HLC) into <paramref name="payload"/>[..<see cref="OperationHeader.EncodedBytes"/>], appends the
    /// payload as ONE WAL record of <paramref name="kind"/>, and calls the owning module's
    /// <see cref="IStateModule.Apply"/> — all under the write lock, so modules see ops in LSN order.
    /// The op is not yet acknowledged: await <see cref="WaitForDurableAsync"/> with the receipt's LSN.
    /// </summary>
    /// <param name="kind">A record kind owned by a registered module.</param>
    /// <param name="payload">Header space followed by the module's body; the header part is overwritten.</param>
    /// <exception cref="EdgeException">DatabaseFaulted, WalQuotaExceeded, WalRecordTooLarge, DiskFull, WalIoError.</exception>
    internal WriteReceipt AppendOperation(WalRecordKind kind, Span<byte> payload)
    {
        IStateModule module = ModuleFor(_modulesByKind, kind, _wal.LastLsn + 1);
        WriteReceipt receipt;
        lock (_writeLock)
        {
            ThrowIfUnwritable();
            var header = new OperationHeader(_originSequence + 1, _clock.Now());
            receipt = AppendAndApply(module, kind, header, payload);
            _originSequence = header.OriginSequence;
        }

        _checkpointer.Nudge(receipt.Lsn);
        return receipt;
    }

    /// <summary>
    /// Applies an op that originated on another replica (sync): checks its clock against
    /// <see cref="HybridClock.MaxSkew"/>, applies it once per (origin, sequence) in origin order,
    /// appends it to the local WAL with its original header, and completes once acknowledged.
    /// </summary>
    /// <param name="kind">The op's record kind (e.g. <see cref="WalRecordKind.Document"/>).</param>
    /// <param name="header">The op's origin, origin sequence and HLC, as the origin stamped them.</param>
    /// <param name="body">The module's encoding of the op (without header).</param>
    /// <param name="cancellationToken">Cancels the durable wait only.</param>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.ClockSkew"/> (counted), DatabaseFaulted, WAL errors,
    /// <see cref="EdgeErrorCode.StateModuleConflict"/> for an unknown kind.</exception>
    /// <exception cref="EdgeException">The body does not decode (e.g. <see cref="EdgeErrorCode.DocumentMalformed"/>); nothing is appended.</exception>
    public ValueTask<RemoteApplyStatus> ApplyRemoteAsync(WalRecordKind kind, OperationHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        IStateModule module = ModuleFor(_modulesByKind, kind, _wal.LastLsn + 1);
        if (header.OriginSequence == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(header), "origin sequences start at 1");
        }

        module.ValidateRemote(new StateRecord(0, kind, header, body.Span));
        _clock.Observe(header.Timestamp);
        byte[] payload = new byte[OperationHeader.EncodedBytes + body.Length];
        body.Span.CopyTo(payload.AsSpan(OperationHeader.EncodedBytes));
        WriteReceipt receipt;
        lock (_writeLock)
        {
            ThrowIfUnwritable();
            ulong applied = _versions[header.OriginReplicaId];
            if (header.OriginSequence <= applied)
            {
                return ValueTask.FromResult(RemoteApplyStatus.Duplicate);
            }

            if (header.OriginSequence != applied + 1)
            {
                return ValueTask.FromResult(RemoteApplyStatus.Gap);
            }

            receipt = AppendAndApply(module, kind, header, payload);
        }

        _checkpointer.Nudge(receipt.Lsn);
        return AwaitApplied(receipt.Lsn, cancellationToken);
    }

    /// <summary>
    /// Completes when the write at <paramref name="lsn"/> is acknowledged in the durability mode
    /// (None/Periodic at once; Group after the group flush covering it; Always after its own flush).
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.DatabaseFaulted"/>: the flush failed; the write is NOT acknowledged and the database refuses further writes until reopened.</exception>
    public ValueTask WaitForDurableAsync(long lsn, CancellationToken cancellationToken = default)
    {
        ValueTask wait = _wal.WaitForDurableAsync(lsn, cancellationToken);
        return wait.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitDurable(wait);
    }

    // Pooled builders: a write that waits for its group flush allocates no state machine box.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitDurable(ValueTask wait)
    {
        try
        {
            await wait.ConfigureAwait(false);
        }
        catch (EdgeException exception) when (exception.Code is EdgeErrorCode.WalFaulted or EdgeErrorCode.WalIoError)
        {
            throw Fault(exception);
        }
    }

    private async ValueTask<RemoteApplyStatus> AwaitApplied(long lsn, CancellationToken cancellationToken)
    {
        await WaitForDurableAsync(lsn, cancellationToken).ConfigureAwait(false);
        return RemoteApplyStatus.Applied;
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_encodeBuffer;

    /// <summary>A per-thread buffer with <see cref="OperationHeader.EncodedBytes"/> reserved for the header; used synchronously only.</summary>
    internal static ArrayBufferWriter<byte> RentEncodeBuffer()
    {
        ArrayBufferWriter<byte> buffer = t_encodeBuffer ??= new ArrayBufferWriter<byte>(1024);
        if (buffer.Capacity > 1 << 20)
        {
            buffer = t_encodeBuffer = new ArrayBufferWriter<byte>(1024); // don't pin a huge buffer after one large document
        }

        buffer.ResetWrittenCount();
        buffer.GetSpan(OperationHeader.EncodedBytes);
        buffer.Advance(OperationHeader.EncodedBytes);
        return buffer;
    }

    /// <summary>
    /// Appends an encoded op (header space + body in <paramref name="buffer"/>) and completes once
    /// acknowledged. When the checkpointer lags by <see cref="EdgeDatabaseOptions.CheckpointLagRecordCountMax"/>
    /// records, the op is copied and appended only after the lag halves (bounded memory).
    /// </summary>
    internal ValueTask<WriteReceipt> AppendEncoded(WalRecordKind kind, System.Buffers.ArrayBufferWriter<byte> buffer, CancellationToken cancellationToken)
    {
        if (!CheckpointLagging(out long lagTarget))
        {
            WriteReceipt receipt;
            try
            {
                receipt = AppendOperation(kind, System.Runtime.InteropServices.MemoryMarshal.AsMemory(buffer.WrittenMemory).Span);
            }
            catch (EdgeException exception) when (exception.Code == EdgeErrorCode.WalQuotaExceeded && _droppableCollections.Count > 0)
            {
                return AppendDroppingAsync(kind, buffer.WrittenSpan.ToArray(), exception, cancellationToken);
            }

            return CompleteWriteAsync(receipt, cancellationToken);
        }

        return AppendAfterCheckpointAsync(kind, buffer.WrittenSpan.ToArray(), lagTarget, cancellationToken);
    }

    /// <summary>
    /// Back-pressure on every kind of write: true when the checkpointer (not faulted) lags the WAL
    /// by <see cref="EdgeDatabaseOptions.CheckpointLagRecordCountMax"/> records, since the live
    /// replica holds in memory what is not checkpointed yet. The writer then waits for the
    /// checkpoint to reach <paramref name="lagTarget"/>, half the bound behind.
    /// </summary>
    private bool CheckpointLagging(out long lagTarget)
    {
        lagTarget = _wal.LastLsn - (Options.CheckpointLagRecordCountMax / 2);
        return _wal.LastLsn - _checkpointer.CheckpointLsn >= Options.CheckpointLagRecordCountMax && _checkpointer.Fault is null;
    }

    private async ValueTask<WriteReceipt> AppendAfterCheckpointAsync(WalRecordKind kind, byte[] payload, long checkpointLsn, CancellationToken cancellationToken)
    {
        await _checkpointer.WaitForCheckpointAsync(checkpointLsn, cancellationToken).ConfigureAwait(false);
        WriteReceipt receipt;
        try
        {
            receipt = AppendOperation(kind, payload);
        }
        catch (EdgeException exception) when (exception.Code == EdgeErrorCode.WalQuotaExceeded && _droppableCollections.Count > 0)
        {
            return await AppendDroppingAsync(kind, payload, exception, cancellationToken).ConfigureAwait(false);
        }

        return await CompleteWriteAsync(receipt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Completes a local write: the receipt once acknowledged.</summary>
    internal ValueTask<WriteReceipt> CompleteWriteAsync(WriteReceipt receipt, CancellationToken cancellationToken)
    {
        ValueTask wait = WaitForDurableAsync(receipt.Lsn, cancellationToken);
        return wait.IsCompletedSuccessfully ? ValueTask.FromResult(receipt) : AwaitReceipt(wait, receipt);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<WriteReceipt> AwaitReceipt(ValueTask wait, WriteReceipt receipt)
    {
        await wait.ConfigureAwait(false);
        return receipt;
    }

    // Caller holds _writeLock.
    private WriteReceipt AppendAndApply(IStateModule module, WalRecordKind kind, OperationHeader header, Span<byte> payload)
    {
        header.WriteTo(payload);
        long lsn;
        try
        {
            lsn = _wal.Append(kind, payload);
        }
        catch (EdgeException exception) when (exception.Code is EdgeErrorCode.WalFaulted)
        {
            throw Fault(exception);
        }

        _versions.AdvanceTo(header.OriginReplicaId, header.OriginSequence);
        try
        {
            module.Apply(new StateRecord(lsn, kind, header, payload[OperationHeader.EncodedBytes..]));
        }
        catch (Exception exception)
        {
            // The record is in the log but not in memory: reads would miss it. Stop taking writes; reopening replays it.
            throw Fault(new EdgeException(EdgeErrorCode.StateCorrupt, $"State module '{module.Name}' failed to apply WAL LSN {lsn}: {exception.Message}", exception));
        }

        return new WriteReceipt(lsn, header);
    }

    private void ThrowIfUnwritable()
    {
        ThrowIfDisposed();
        ThrowIfWritesFenced();
        if (Volatile.Read(ref _fault) is { } fault)
        {
            throw new EdgeException(EdgeErrorCode.DatabaseFaulted, fault.Message, fault);
        }

        if (_checkpointer?.Fault is { } checkpointFault)
        {
            throw Fault(new EdgeException(EdgeErrorCode.StateCorrupt, $"checkpointing failed: {checkpointFault.Message}", checkpointFault));
        }
    }
}
