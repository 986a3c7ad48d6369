using System.Runtime.InteropServices;

namespace CortexEdge.Agent.Policy;

/// <summary>
/// Watches a UPS hat's "mains lost" GPIO line through the Linux GPIO character device (uAPI v2):
/// <see cref="Open"/> requests the line as an input with edge detection on both edges
/// (<c>GPIO_V2_GET_LINE_IOCTL</c>), reads its level once (<c>GPIO_V2_LINE_GET_VALUES_IOCTL</c>),
/// then a dedicated thread sleeps in <c>poll</c> on the line's file descriptor and reads
/// <c>struct gpio_v2_line_event</c> records as the kernel queues them: no timer, no polling loop.
/// <para>
/// Thread safety: <see cref="State"/> and the counters may be read from any thread;
/// <see cref="Changed"/> is raised on the monitor's thread. If the event stream fails,
/// <see cref="State"/> becomes <see cref="MainsPowerState.Unknown"/> and <see cref="Fault"/> says why.
/// </para>
/// </summary>
public sealed unsafe class GpioMainsMonitor : IMainsPowerSource, IDisposable
{
    private const int ReadBatchEvents = 16;

    private readonly int _lineFd;
    private readonly int _wakeReadFd;
    private readonly int _wakeWriteFd;
    private readonly uint _lineOffset;
    private readonly Thread _thread;
    private readonly GpioLineEventDecoder _decoder = new();
    private int _state;
    private long _eventCount;
    private long _lostEventCount;
    private uint _lastLineSequence;
    private volatile Exception? _fault;
    private int _disposed;
    private bool _selfDisposed;

    /// <summary>Takes ownership of an event file descriptor (a line request's, or a pipe in tests) and starts the reader thread.</summary>
    internal GpioMainsMonitor(int lineFd, uint lineOffset, bool initiallyActive, string description)
    {
        _lineFd = lineFd;
        _lineOffset = lineOffset;
        Description = description;
        _state = (int)(initiallyActive ? MainsPowerState.Lost : MainsPowerState.Present);
        int* fds = stackalloc int[2];
        if (GpioNative.Pipe2(fds, GpioNative.OpenCloseOnExec) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            GpioNative.Close(lineFd);
            throw new SyncPolicyException(SyncPolicyErrorCode.GpioReadFailed, $"{description}: cannot create the monitor's wake pipe ({GpioNative.DescribeErrno(errno)}).");
        }
        _wakeReadFd = fds[0];
        _wakeWriteFd = fds[1];
        _thread = new Thread(Run) { IsBackground = true, Name = "gpio-mains" };
        _thread.Start();
    }

    /// <summary>
    /// Requests the configured line and starts watching it.
    /// </summary>
    /// <exception cref="SyncPolicyException">
    /// <see cref="SyncPolicyErrorCode.GpioChipNotFound"/> when the device does not exist (no GPIO
    /// hardware, or the wrong chip number); <see cref="SyncPolicyErrorCode.GpioChipAccessDenied"/>
    /// when this user may not open it (add it to the <c>gpio</c> group);
    /// <see cref="SyncPolicyErrorCode.GpioLineRequestFailed"/> when the kernel refuses the request
    /// (not a GPIO chip, line in use, offset out of range);
    /// <see cref="SyncPolicyErrorCode.GpioReadFailed"/> when the initial level cannot be read;
    /// <see cref="SyncPolicyErrorCode.OptionsInvalid"/> for bad options.
    /// </exception>
    public static GpioMainsMonitor Open(GpioMainsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!OperatingSystem.IsLinux() || !BitConverter.IsLittleEndian || IntPtr.Size != 8)
            throw new SyncPolicyException(SyncPolicyErrorCode.GpioUnsupportedPlatform, "GPIO mains: the GPIO character device is read only on 64-bit little-endian Linux (arm64, x64).");

        string path = options.DevicePath;
        string description = $"{path} line {options.LineOffset}";
        int chipFd = GpioNative.Open(path, GpioNative.OpenReadWrite | GpioNative.OpenCloseOnExec);
        if (chipFd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                GpioNative.ErrorNoEntry or GpioNative.ErrorNoDevice or GpioNative.ErrorNoSuchDevice => new SyncPolicyException(SyncPolicyErrorCode.GpioChipNotFound,
                    $"GPIO mains: {path} does not exist ({GpioNative.DescribeErrno(errno)}); this machine has no such GPIO chip. Check the chip number with 'gpiodetect', or remove the GPIO mains line from the configuration."),
                GpioNative.ErrorAccess => new SyncPolicyException(SyncPolicyErrorCode.GpioChipAccessDenied,
                    $"GPIO mains: may not open {path} ({GpioNative.DescribeErrno(errno)}); add the agent's user to the group owning it (usually 'gpio')."),
                _ => new SyncPolicyException(SyncPolicyErrorCode.GpioLineRequestFailed, $"GPIO mains: cannot open {path} ({GpioNative.DescribeErrno(errno)})."),
            };
        }

        int lineFd;
        try
        {
            GpioUapi.LineRequest request = default;
            request.Offsets[0] = options.LineOffset;
            request.LineCount = 1;
            request.EventBufferSize = options.EventBufferSize;
            System.Text.Encoding.UTF8.GetBytes(options.Consumer, new Span<byte>(request.Consumer, GpioUapi.NameBytesMax - 1));
            request.Config.Flags = GpioUapi.LineFlagInput | GpioUapi.LineFlagEdgeRising | GpioUapi.LineFlagEdgeFalling
                | (options.MainsLostWhenLow ? GpioUapi.LineFlagActiveLow : 0);
            if (GpioNative.Ioctl(chipFd, GpioUapi.GetLineIoctl, &request) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new SyncPolicyException(SyncPolicyErrorCode.GpioLineRequestFailed,
                    $"GPIO mains: the kernel refused line {options.LineOffset} of {path} ({GpioNative.DescribeErrno(errno)}); EBUSY means another program holds the line, EINVAL an offset beyond the chip's lines.");
            }
            lineFd = request.Fd;
        }
        finally
        {
            // The line request keeps its own reference to the chip.
            GpioNative.Close(chipFd);
        }

        GpioUapi.LineValues values = new() { Mask = 1 };
        if (GpioNative.Ioctl(lineFd, GpioUapi.GetValuesIoctl, &values) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            GpioNative.Close(lineFd);
            throw new SyncPolicyException(SyncPolicyErrorCode.GpioReadFailed, $"GPIO mains: cannot read the level of {description} ({GpioNative.DescribeErrno(errno)}).");
        }
        return new GpioMainsMonitor(lineFd, options.LineOffset, (values.Bits & 1) != 0, description);
    }

    /// <inheritdoc />
    public MainsPowerState State => (MainsPowerState)Volatile.Read(ref _state);

    /// <inheritdoc />
    public string Description { get; }

    /// <summary>Edge events decoded so far.</summary>
    public long EventCount => Interlocked.Read(ref _eventCount);

    /// <summary>Events the kernel dropped (gaps in the line sequence number), e.g. when its buffer overflowed.</summary>
    public long LostEventCount => Interlocked.Read(ref _lostEventCount);

    /// <summary>Why the event stream stopped, or <c>null</c> while it runs.</summary>
    public Exception? Fault => _fault;

    /// <inheritdoc />
    public event EventHandler<MainsPowerState>? Changed;

    /// <summary>Stops the reader thread and releases the line. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        byte wake = 1;
        GpioNative.Write(_wakeWriteFd, &wake, 1);
        // A Changed handler may dispose the monitor from the monitor's own thread: that thread then
        // sees the wake byte once the handler returns and closes the descriptors itself.
        if (Thread.CurrentThread == _thread)
        {
            _selfDisposed = true;
            return;
        }
        _thread.Join();
        CloseDescriptors();
    }

    private void CloseDescriptors()
    {
        GpioNative.Close(_wakeWriteFd);
        GpioNative.Close(_wakeReadFd);
        GpioNative.Close(_lineFd);
    }

    private void Run()
    {
        try
        {
            RunLoop();
        }
        finally
        {
            if (_selfDisposed)
                CloseDescriptors();
        }
    }

    private void RunLoop()
    {
        byte* buffer = stackalloc byte[GpioLineEvent.RecordBytes * ReadBatchEvents];
        GpioNative.PollDescriptor* descriptors = stackalloc GpioNative.PollDescriptor[2];
        while (true)
        {
            descriptors[0] = new GpioNative.PollDescriptor { Fd = _lineFd, Events = GpioNative.PollIn };
            descriptors[1] = new GpioNative.PollDescriptor { Fd = _wakeReadFd, Events = GpioNative.PollIn };
            // Infinite timeout: the thread sleeps in the kernel until an edge or Dispose.
            int ready = GpioNative.Poll(descriptors, 2, -1);
            if (ready < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == GpioNative.ErrorInterrupted)
                    continue;
                Stop($"poll failed ({GpioNative.DescribeErrno(errno)})");
                return;
            }
            if (descriptors[1].ReturnedEvents != 0)
                return;
            if (descriptors[0].ReturnedEvents == 0)
                continue;

            nint count = GpioNative.Read(_lineFd, buffer, (nuint)(GpioLineEvent.RecordBytes * ReadBatchEvents));
            if (count < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == GpioNative.ErrorInterrupted)
                    continue;
                Stop($"read failed ({GpioNative.DescribeErrno(errno)})");
                return;
            }
            if (count == 0)
            {
                Stop("the line's event stream ended");
                return;
            }
            if (!_decoder.Feed(new ReadOnlySpan<byte>(buffer, (int)count), OnEvent, out string? error))
            {
                Stop(error!);
                return;
            }
        }
    }

    private void OnEvent(GpioLineEvent lineEvent)
    {
        if (lineEvent.LineOffset != _lineOffset)
            return;
        Interlocked.Increment(ref _eventCount);
        if (_lastLineSequence != 0 && lineEvent.LineSequence > _lastLineSequence + 1)
            Interlocked.Add(ref _lostEventCount, lineEvent.LineSequence - _lastLineSequence - 1);
        _lastLineSequence = lineEvent.LineSequence;
        // The newest edge gives the level after it, so a dropped event never leaves a wrong state.
        SetState(lineEvent.Kind == GpioLineEventKind.RisingEdge ? MainsPowerState.Lost : MainsPowerState.Present);
    }

    private void Stop(string reason)
    {
        _fault = new SyncPolicyException(SyncPolicyErrorCode.GpioReadFailed, $"GPIO mains: {Description}: {reason}; mains state is now unknown.");
        SetState(MainsPowerState.Unknown);
    }

    private void SetState(MainsPowerState state)
    {
        if (Interlocked.Exchange(ref _state, (int)state) != (int)state)
            Changed?.Invoke(this, state);
    }
}
