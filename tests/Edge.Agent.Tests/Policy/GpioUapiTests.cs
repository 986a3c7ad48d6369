using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using CortexEdge.Agent.Policy;
using Xunit.Abstractions;

namespace CortexEdge.Agent.Tests.Policy;

/// <summary>
/// The uAPI structs and ioctl numbers against linux/gpio.h. The expected values were printed by a C
/// program compiled against the header (libgpiod-dev / linux-libc-dev, kernel uAPI v2) and are the
/// same on arm64 and x64; <see cref="Layout_MatchesHeaderCompiledWithCc"/> re-derives them with the
/// C compiler wherever one and the header are installed.
/// </summary>
public sealed unsafe class GpioUapiTests(ITestOutputHelper output)
{
    private static Dictionary<string, long> Ours()
    {
        GpioUapi.LineRequest request = default;
        GpioUapi.LineConfig config = default;
        GpioUapi.LineEvent lineEvent = default;
        byte* r = (byte*)&request;
        byte* c = (byte*)&config;
        byte* e = (byte*)&lineEvent;
        return new Dictionary<string, long>
        {
            ["GPIO_V2_GET_LINE_IOCTL"] = GpioUapi.GetLineIoctl,
            ["GPIO_V2_LINE_GET_VALUES_IOCTL"] = GpioUapi.GetValuesIoctl,
            ["GPIO_GET_CHIPINFO_IOCTL"] = GpioUapi.Ioc(GpioUapi.IocRead, GpioUapi.GpioIoctlType, 0x01, 68),
            ["sizeof_request"] = Unsafe.SizeOf<GpioUapi.LineRequest>(),
            ["sizeof_config"] = Unsafe.SizeOf<GpioUapi.LineConfig>(),
            ["sizeof_attribute"] = Unsafe.SizeOf<GpioUapi.LineAttribute>(),
            ["sizeof_config_attribute"] = Unsafe.SizeOf<GpioUapi.LineConfigAttribute>(),
            ["sizeof_values"] = Unsafe.SizeOf<GpioUapi.LineValues>(),
            ["sizeof_event"] = Unsafe.SizeOf<GpioUapi.LineEvent>(),
            ["request_consumer"] = request.Consumer - r,
            ["request_config"] = (byte*)&request.Config - r,
            ["request_num_lines"] = (byte*)&request.LineCount - r,
            ["request_event_buffer_size"] = (byte*)&request.EventBufferSize - r,
            ["request_padding"] = (byte*)request.Padding - r,
            ["request_fd"] = (byte*)&request.Fd - r,
            ["config_num_attrs"] = (byte*)&config.AttributeCount - c,
            ["config_attrs"] = (byte*)&config.Attributes - c,
            ["event_id"] = (byte*)&lineEvent.Id - e,
            ["event_offset"] = (byte*)&lineEvent.Offset - e,
            ["event_seqno"] = (byte*)&lineEvent.Seqno - e,
            ["event_line_seqno"] = (byte*)&lineEvent.LineSeqno - e,
            ["event_padding"] = (byte*)lineEvent.Padding - e,
            ["FLAG_ACTIVE_LOW"] = (long)GpioUapi.LineFlagActiveLow,
            ["FLAG_INPUT"] = (long)GpioUapi.LineFlagInput,
            ["FLAG_EDGE_RISING"] = (long)GpioUapi.LineFlagEdgeRising,
            ["FLAG_EDGE_FALLING"] = (long)GpioUapi.LineFlagEdgeFalling,
            ["EVENT_RISING_EDGE"] = (long)GpioLineEventKind.RisingEdge,
            ["EVENT_FALLING_EDGE"] = (long)GpioLineEventKind.FallingEdge,
        };
    }

    /// <summary>Values printed from /usr/include/linux/gpio.h with gcc (see the class summary).</summary>
    private static readonly Dictionary<string, long> Header = new()
    {
        ["GPIO_V2_GET_LINE_IOCTL"] = 0xC250B407,
        ["GPIO_V2_LINE_GET_VALUES_IOCTL"] = 0xC010B40E,
        ["GPIO_GET_CHIPINFO_IOCTL"] = 0x8044B401,
        ["sizeof_request"] = 592,
        ["sizeof_config"] = 272,
        ["sizeof_attribute"] = 16,
        ["sizeof_config_attribute"] = 24,
        ["sizeof_values"] = 16,
        ["sizeof_event"] = 48,
        ["request_consumer"] = 256,
        ["request_config"] = 288,
        ["request_num_lines"] = 560,
        ["request_event_buffer_size"] = 564,
        ["request_padding"] = 568,
        ["request_fd"] = 588,
        ["config_num_attrs"] = 8,
        ["config_attrs"] = 32,
        ["event_id"] = 8,
        ["event_offset"] = 12,
        ["event_seqno"] = 16,
        ["event_line_seqno"] = 20,
        ["event_padding"] = 24,
        ["FLAG_ACTIVE_LOW"] = 1 << 1,
        ["FLAG_INPUT"] = 1 << 2,
        ["FLAG_EDGE_RISING"] = 1 << 4,
        ["FLAG_EDGE_FALLING"] = 1 << 5,
        ["EVENT_RISING_EDGE"] = 1,
        ["EVENT_FALLING_EDGE"] = 2,
    };

    [Fact]
    public void Layout_MatchesKernelHeaderValues()
    {
        Dictionary<string, long> ours = Ours();
        Assert.Equal(Header.Keys.Order(), ours.Keys.Order());
        foreach ((string name, long expected) in Header)
            Assert.True(expected == ours[name], $"{name}: header {expected:X}, ours {ours[name]:X}");
    }

    [Fact]
    public void EventCodecOffsets_MatchTheStruct()
    {
        Assert.Equal(GpioLineEvent.RecordBytes, Unsafe.SizeOf<GpioUapi.LineEvent>());
        Dictionary<string, long> ours = Ours();
        Assert.Equal(GpioLineEvent.IdOffset, ours["event_id"]);
        Assert.Equal(GpioLineEvent.LineOffsetOffset, ours["event_offset"]);
        Assert.Equal(GpioLineEvent.SequenceOffset, ours["event_seqno"]);
        Assert.Equal(GpioLineEvent.LineSequenceOffset, ours["event_line_seqno"]);
        Assert.Equal(GpioLineEvent.PaddingOffset, ours["event_padding"]);
    }

    [Theory]
    [InlineData(GpioUapi.IocRead | GpioUapi.IocWrite, 0xB4u, 0x07u, 592, 0xC250B407u)]
    [InlineData(GpioUapi.IocRead | GpioUapi.IocWrite, 0xB4u, 0x0Eu, 16, 0xC010B40Eu)]
    [InlineData(GpioUapi.IocRead, 0xB4u, 0x01u, 68, 0x8044B401u)]
    [InlineData(GpioUapi.IocWrite, 0x54u, 0x02u, 4, 0x40045402u)]
    public void Ioc_EncodesDirectionSizeTypeNumber(uint direction, uint type, uint number, int size, uint expected)
    {
        Assert.Equal(expected, GpioUapi.Ioc(direction, type, number, size));
    }

    [Fact]
    public void Ioc_SizeBeyondFourteenBits_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GpioUapi.Iowr(0xB4, 1, 1 << 14));
    }

    /// <summary>Compiles a probe against the installed header, so a header change is caught here, not on a board.</summary>
    [Fact]
    public void Layout_MatchesHeaderCompiledWithCc()
    {
        const string HeaderPath = "/usr/include/linux/gpio.h";
        string? compiler = new[] { "/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang" }.FirstOrDefault(File.Exists);
        if (compiler is null || !File.Exists(HeaderPath))
        {
            // Nothing to compare with here; Layout_MatchesKernelHeaderValues still checks the recorded values.
            output.WriteLine($"not compared: {(compiler is null ? "no C compiler" : $"{HeaderPath} missing (install linux-libc-dev)")}");
            return;
        }
        string directory = Path.Combine(Path.GetTempPath(), "ce-gpio-probe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string source = Path.Combine(directory, "probe.c");
            File.WriteAllText(source, """
                #include <stdio.h>
                #include <stddef.h>
                #include <linux/gpio.h>
                #define P(n, v) printf("%s=%llu\n", n, (unsigned long long)(v))
                int main(void) {
                  P("GPIO_V2_GET_LINE_IOCTL", GPIO_V2_GET_LINE_IOCTL);
                  P("GPIO_V2_LINE_GET_VALUES_IOCTL", GPIO_V2_LINE_GET_VALUES_IOCTL);
                  P("GPIO_GET_CHIPINFO_IOCTL", GPIO_GET_CHIPINFO_IOCTL);
                  P("sizeof_request", sizeof(struct gpio_v2_line_request));
                  P("sizeof_config", sizeof(struct gpio_v2_line_config));
                  P("sizeof_attribute", sizeof(struct gpio_v2_line_attribute));
                  P("sizeof_config_attribute", sizeof(struct gpio_v2_line_config_attribute));
                  P("sizeof_values", sizeof(struct gpio_v2_line_values));
                  P("sizeof_event", sizeof(struct gpio_v2_line_event));
                  P("request_consumer", offsetof(struct gpio_v2_line_request, consumer));
                  P("request_config", offsetof(struct gpio_v2_line_request, config));
                  P("request_num_lines", offsetof(struct gpio_v2_line_request, num_lines));
                  P("request_event_buffer_size", offsetof(struct gpio_v2_line_request, event_buffer_size));
                  P("request_padding", offsetof(struct gpio_v2_line_request, padding));
                  P("request_fd", offsetof(struct gpio_v2_line_request, fd));
                  P("config_num_attrs", offsetof(struct gpio_v2_line_config, num_attrs));
                  P("config_attrs", offsetof(struct gpio_v2_line_config, attrs));
                  P("event_id", offsetof(struct gpio_v2_line_event, id));
                  P("event_offset", offsetof(struct gpio_v2_line_event, offset));
                  P("event_seqno", offsetof(struct gpio_v2_line_event, seqno));
                  P("event_line_seqno", offsetof(struct gpio_v2_line_event, line_seqno));
                  P("event_padding", offsetof(struct gpio_v2_line_event, padding));
                  P("FLAG_ACTIVE_LOW", GPIO_V2_LINE_FLAG_ACTIVE_LOW);
                  P("FLAG_INPUT", GPIO_V2_LINE_FLAG_INPUT);
                  P("FLAG_EDGE_RISING", GPIO_V2_LINE_FLAG_EDGE_RISING);
                  P("FLAG_EDGE_FALLING", GPIO_V2_LINE_FLAG_EDGE_FALLING);
                  P("EVENT_RISING_EDGE", GPIO_V2_LINE_EVENT_RISING_EDGE);
                  P("EVENT_FALLING_EDGE", GPIO_V2_LINE_EVENT_FALLING_EDGE);
                  return 0;
                }
                """);
            string binary = Path.Combine(directory, "probe");
            (int compileExit, string compileOutput) = Run(compiler, $"-o {binary} {source}");
            Assert.True(compileExit == 0, $"{compiler} failed: {compileOutput}");
            (int exit, string printed) = Run(binary, "");
            Assert.Equal(0, exit);
            Dictionary<string, long> fromHeader = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('='))
                .ToDictionary(parts => parts[0], parts => (long)ulong.Parse(parts[1], CultureInfo.InvariantCulture));
            Dictionary<string, long> ours = Ours();
            Assert.Equal(fromHeader.Keys.Order(), ours.Keys.Order());
            foreach ((string name, long expected) in fromHeader)
                Assert.True(expected == ours[name], $"{name}: header {expected:X}, ours {ours[name]:X}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static (int ExitCode, string Output) Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
