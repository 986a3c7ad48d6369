using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using CortexEdge.Agent.Policy;
using Xunit.Abstractions;

namespace CortexEdge.Agent.Tests.Policy;

/// <summary>
/// The monitor's event path is driven through a pipe carrying encoded gpio_v2_line_event records,
/// exactly what its thread reads from a line request's fd. This machine has no GPIO chip and no
/// gpio-sim (no configfs), so there the ioctl path is checked only for its failures (missing chip, not a chip);
/// where the kernel's gpio-sim is available and writable (root), <see cref="Open_GpioSimLine_FollowsPulls"/> runs the real thing.
/// </summary>
public sealed unsafe class GpioMainsMonitorTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private sealed class PipeLine : IDisposable
    {
        public PipeLine()
        {
            int* fds = stackalloc int[2];
            Assert.Equal(0, GpioNative.Pipe2(fds, GpioNative.OpenCloseOnExec));
            ReadFd = fds[0];
            WriteFd = fds[1];
        }

        public int ReadFd { get; }

        public int WriteFd { get; private set; }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            fixed (byte* pointer = bytes)
            {
                int written = 0;
                while (written < bytes.Length)
                {
                    nint result = GpioNative.Write(WriteFd, pointer + written, (nuint)(bytes.Length - written));
                    Assert.True(result > 0, $"write to the pipe failed: errno {Marshal.GetLastPInvokeError()}");
                    written += (int)result;
                }
            }
        }

        public void Send(GpioLineEvent lineEvent)
        {
            Span<byte> record = stackalloc byte[GpioLineEvent.RecordBytes];
            lineEvent.Encode(record);
            Write(record);
        }

        public void CloseWriter()
        {
            if (WriteFd >= 0)
                GpioNative.Close(WriteFd);
            WriteFd = -1;
        }

        public void Dispose() => CloseWriter();
    }

    private static (GpioMainsMonitor Monitor, BlockingCollection<MainsPowerState> Changes) Start(PipeLine pipe, bool initiallyLost = false)
    {
        var monitor = new GpioMainsMonitor(pipe.ReadFd, 17, initiallyLost, "test-pipe line 17");
        var changes = new BlockingCollection<MainsPowerState>();
        monitor.Changed += (_, state) => changes.Add(state);
        return (monitor, changes);
    }

    private static MainsPowerState Next(BlockingCollection<MainsPowerState> changes)
    {
        Assert.True(changes.TryTake(out MainsPowerState state, Patience), $"no state change within {Patience}");
        return state;
    }

    [Fact]
    public void Events_RisingThenFalling_MainsLostThenPresent()
    {
        using var pipe = new PipeLine();
        (GpioMainsMonitor monitor, BlockingCollection<MainsPowerState> changes) = Start(pipe);
        using (monitor)
        {
            Assert.Equal(MainsPowerState.Present, monitor.State);
            pipe.Send(new GpioLineEvent(1_000, GpioLineEventKind.RisingEdge, 17, 1, 1));
            Assert.Equal(MainsPowerState.Lost, Next(changes));
            Assert.Equal(MainsPowerState.Lost, monitor.State);
            pipe.Send(new GpioLineEvent(2_000, GpioLineEventKind.FallingEdge, 17, 2, 2));
            Assert.Equal(MainsPowerState.Present, Next(changes));
            Assert.Equal(2, monitor.EventCount);
            Assert.Equal(0, monitor.LostEventCount);
            Assert.Null(monitor.Fault);
        }
    }

    [Fact]
    public void Events_SplitAcrossWrites_ReassembledAndOtherLinesIgnored()
    {
        using var pipe = new PipeLine();
        (GpioMainsMonitor monitor, BlockingCollection<MainsPowerState> changes) = Start(pipe, initiallyLost: true);
        using (monitor)
        {
            var bytes = new byte[GpioLineEvent.RecordBytes * 2];
            new GpioLineEvent(10, GpioLineEventKind.FallingEdge, 3, 1, 1).Encode(bytes);
            new GpioLineEvent(20, GpioLineEventKind.FallingEdge, 17, 2, 1).Encode(bytes.AsSpan(GpioLineEvent.RecordBytes));
            pipe.Write(bytes.AsSpan(0, 30));
            pipe.Write(bytes.AsSpan(30, 40));
            pipe.Write(bytes.AsSpan(70));
            Assert.Equal(MainsPowerState.Present, Next(changes));
            Assert.Equal(1, monitor.EventCount);
        }
    }

    [Fact]
    public void Events_SequenceGap_CountsLostEventsStateFromNewestEdge()
    {
        using var pipe = new PipeLine();
        (GpioMainsMonitor monitor, BlockingCollection<MainsPowerState> changes) = Start(pipe);
        using (monitor)
        {
            pipe.Send(new GpioLineEvent(1, GpioLineEventKind.RisingEdge, 17, 1, 1));
            Assert.Equal(MainsPowerState.Lost, Next(changes));
            // Events 2..4 were dropped by the kernel; the newest edge (falling) still gives the right state.
            pipe.Send(new GpioLineEvent(5, GpioLineEventKind.FallingEdge, 17, 5, 5));
            Assert.Equal(MainsPowerState.Present, Next(changes));
            Assert.Equal(3, monitor.LostEventCount);
        }
    }

    [Fact]
    public void Stream_Ends_StateUnknownWithFault()
    {
        using var pipe = new PipeLine();
        (GpioMainsMonitor monitor, BlockingCollection<MainsPowerState> changes) = Start(pipe);
        using (monitor)
        {
            pipe.CloseWriter();
            Assert.Equal(MainsPowerState.Unknown, Next(changes));
            SyncPolicyException fault = Assert.IsType<SyncPolicyException>(monitor.Fault);
            Assert.Equal(SyncPolicyErrorCode.GpioReadFailed, fault.Code);
            Assert.Contains("test-pipe line 17", fault.Message);
            Assert.Contains("ended", fault.Message);
        }
    }

    [Fact]
    public void Stream_MalformedRecord_StateUnknownFaultNamesOffset()
    {
        using var pipe = new PipeLine();
        (GpioMainsMonitor monitor, BlockingCollection<MainsPowerState> changes) = Start(pipe);
        using (monitor)
        {
            pipe.Send(new GpioLineEvent(1, GpioLineEventKind.RisingEdge, 17, 1, 1));
            Assert.Equal(MainsPowerState.Lost, Next(changes));
            pipe.Write(new byte[GpioLineEvent.RecordBytes]);
            Assert.Equal(MainsPowerState.Unknown, Next(changes));
            Assert.Contains("malformed line event at byte 48", monitor.Fault!.Message);
        }
    }

    [Fact]
    public void Dispose_WhileWaiting_StopsTheThreadIdempotent()
    {
        using var pipe = new PipeLine();
        (GpioMainsMonitor monitor, _) = Start(pipe);
        monitor.Dispose();
        monitor.Dispose();
        Assert.Null(monitor.Fault);
    }

    [Fact]
    public void Dispose_FromChangedHandler_DoesNotDeadlock()
    {
        using var pipe = new PipeLine();
        var monitor = new GpioMainsMonitor(pipe.ReadFd, 17, false, "test-pipe line 17");
        using var disposed = new ManualResetEventSlim();
        monitor.Changed += (sender, _) =>
        {
            ((GpioMainsMonitor)sender!).Dispose();
            disposed.Set();
        };
        pipe.Send(new GpioLineEvent(1, GpioLineEventKind.RisingEdge, 17, 1, 1));
        Assert.True(disposed.Wait(Patience), "the handler's Dispose did not return");
        Assert.Equal(MainsPowerState.Lost, monitor.State);
        monitor.Dispose();
    }

    [Fact]
    public void Open_ChipThatDoesNotExist_ClearError()
    {
        var options = new GpioMainsOptions("/dev/gpiochip-ce-absent-9", 17);
        SyncPolicyException error = Assert.Throws<SyncPolicyException>(() => GpioMainsMonitor.Open(options));
        Assert.Equal(SyncPolicyErrorCode.GpioChipNotFound, error.Code);
        Assert.Contains("/dev/gpiochip-ce-absent-9 does not exist", error.Message);
        Assert.Contains("ENOENT", error.Message);
    }

    [Fact]
    public void Open_ChipNumberWithoutHardware_NamesDevicePath()
    {
        // No GPIO hardware on this machine (and none in CI): chip 97 cannot exist on any board we target.
        SyncPolicyException error = Assert.Throws<SyncPolicyException>(() => GpioMainsMonitor.Open(new GpioMainsOptions("97", 4)));
        Assert.Equal(SyncPolicyErrorCode.GpioChipNotFound, error.Code);
        Assert.Contains("/dev/gpiochip97", error.Message);
    }

    [Fact]
    public void Open_DeviceThatIsNotAGpioChip_LineRequestFailed()
    {
        SyncPolicyException error = Assert.Throws<SyncPolicyException>(() => GpioMainsMonitor.Open(new GpioMainsOptions("/dev/null", 0)));
        Assert.Equal(SyncPolicyErrorCode.GpioLineRequestFailed, error.Code);
        Assert.Contains("ENOTTY", error.Message);
    }

    private const string GpioSimRoot = "/sys/kernel/config/gpio-sim";

    /// <summary>
    /// The whole real path on the kernel's GPIO simulator: line request, initial level, edge events
    /// read from the line fd. Needs CONFIG_GPIO_SIM, configfs mounted and root; otherwise it says why
    /// and checks nothing (the pipe-driven tests above cover the event path everywhere).
    /// </summary>
    [Fact]
    public void Open_GpioSimLine_FollowsPulls()
    {
        if (!Directory.Exists(GpioSimRoot))
        {
            output.WriteLine($"gpio-sim not exercised: {GpioSimRoot} is absent (needs CONFIG_GPIO_SIM, 'modprobe gpio-sim' and configfs mounted)");
            return;
        }
        string device = Path.Combine(GpioSimRoot, "ce-policy-" + Guid.NewGuid().ToString("N")[..8]);
        string bank = Path.Combine(device, "gpio-bank0");
        try
        {
            Directory.CreateDirectory(device);
        }
        catch (UnauthorizedAccessException exception)
        {
            output.WriteLine($"gpio-sim not exercised: cannot create {device} ({exception.Message}); run as root");
            return;
        }
        try
        {
            Directory.CreateDirectory(bank);
            File.WriteAllText(Path.Combine(bank, "num_lines"), "8");
            File.WriteAllText(Path.Combine(device, "live"), "1");
            string deviceName = File.ReadAllText(Path.Combine(device, "dev_name")).Trim();
            string chipName = File.ReadAllText(Path.Combine(bank, "chip_name")).Trim();
            string Pull(uint line) => $"/sys/devices/platform/{deviceName}/{chipName}/sim_gpio{line}/pull";
            File.WriteAllText(Pull(3), "pull-down");
            File.WriteAllText(Pull(4), "pull-down");

            using GpioMainsMonitor highActive = GpioMainsMonitor.Open(new GpioMainsOptions($"/dev/{chipName}", 3));
            using GpioMainsMonitor lowActive = GpioMainsMonitor.Open(new GpioMainsOptions($"/dev/{chipName}", 4, MainsLostWhenLow: true));
            Assert.Equal(MainsPowerState.Present, highActive.State);
            Assert.Equal(MainsPowerState.Lost, lowActive.State);

            var changes = new BlockingCollection<MainsPowerState>();
            highActive.Changed += (_, state) => changes.Add(state);
            File.WriteAllText(Pull(3), "pull-up");
            Assert.Equal(MainsPowerState.Lost, Next(changes));
            File.WriteAllText(Pull(3), "pull-down");
            Assert.Equal(MainsPowerState.Present, Next(changes));
            Assert.Equal(2, highActive.EventCount);

            // Another program holding the line gets a clear refusal.
            SyncPolicyException busy = Assert.Throws<SyncPolicyException>(() => GpioMainsMonitor.Open(new GpioMainsOptions($"/dev/{chipName}", 3)));
            Assert.Equal(SyncPolicyErrorCode.GpioLineRequestFailed, busy.Code);
            output.WriteLine($"gpio-sim exercised on /dev/{chipName}");
        }
        finally
        {
            if (File.Exists(Path.Combine(device, "live")))
                File.WriteAllText(Path.Combine(device, "live"), "0");
            if (Directory.Exists(bank))
                Directory.Delete(bank);
            Directory.Delete(device);
        }
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("chip0", "neither a number nor a device path")]
    public void Open_BadOptions_OptionsInvalid(string chip, string expected)
    {
        SyncPolicyException error = Assert.Throws<SyncPolicyException>(() => GpioMainsMonitor.Open(new GpioMainsOptions(chip, 0)));
        Assert.Equal(SyncPolicyErrorCode.OptionsInvalid, error.Code);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Options_ConsumerTooLong_OptionsInvalid()
    {
        var options = new GpioMainsOptions("0", 1) { Consumer = new string('c', 32) };
        Assert.Equal(SyncPolicyErrorCode.OptionsInvalid, Assert.Throws<SyncPolicyException>(options.Validate).Code);
        Assert.Equal("/dev/gpiochip0", options.DevicePath);
    }
}
