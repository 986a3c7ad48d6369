using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CortexEdge.Agent.Policy;

/// <summary>
/// The parts of the Linux GPIO character-device uAPI v2 (include/uapi/linux/gpio.h) this agent
/// uses, with the exact struct layouts (tests compare sizes and offsets with the header). The
/// ioctl request numbers are computed with the generic <c>_IOWR</c> encoding
/// (asm-generic/ioctl.h: 8 bits number, 8 bits type, 14 bits size, 2 bits direction), which arm64
/// and x64 share; they are not hard-coded per architecture.
/// </summary>
internal static class GpioUapi
{
    public const uint IocWrite = 1;
    public const uint IocRead = 2;
    private const int IocNumberShift = 0;
    private const int IocTypeShift = 8;
    private const int IocSizeShift = 16;
    private const int IocDirectionShift = 30;
    private const uint IocSizeMask = (1u << 14) - 1;

    /// <summary>The GPIO ioctl type byte, 0xB4.</summary>
    public const uint GpioIoctlType = 0xB4;

    public const int LinesMax = 64;
    public const int NameBytesMax = 32;
    public const int LineAttributesMax = 10;

    public const ulong LineFlagActiveLow = 1ul << 1;
    public const ulong LineFlagInput = 1ul << 2;
    public const ulong LineFlagEdgeRising = 1ul << 4;
    public const ulong LineFlagEdgeFalling = 1ul << 5;

    /// <summary><c>_IOC(dir, type, nr, size)</c> of asm-generic/ioctl.h.</summary>
    public static uint Ioc(uint direction, uint type, uint number, int size)
    {
        if ((uint)size > IocSizeMask)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"An ioctl argument size must fit 14 bits (max {IocSizeMask}).");
        return (direction << IocDirectionShift) | ((uint)size << IocSizeShift) | (type << IocTypeShift) | (number << IocNumberShift);
    }

    /// <summary><c>_IOWR(type, nr, size)</c>.</summary>
    public static uint Iowr(uint type, uint number, int size) => Ioc(IocRead | IocWrite, type, number, size);

    /// <summary><c>GPIO_V2_GET_LINE_IOCTL</c> = <c>_IOWR(0xB4, 0x07, struct gpio_v2_line_request)</c>.</summary>
    public static uint GetLineIoctl => Iowr(GpioIoctlType, 0x07, Unsafe.SizeOf<LineRequest>());

    /// <summary><c>GPIO_V2_LINE_GET_VALUES_IOCTL</c> = <c>_IOWR(0xB4, 0x0E, struct gpio_v2_line_values)</c>.</summary>
    public static uint GetValuesIoctl => Iowr(GpioIoctlType, 0x0E, Unsafe.SizeOf<LineValues>());

    /// <summary><c>struct gpio_v2_line_attribute</c> (16 bytes): id, padding, then a u64 union of flags / values / debounce_period_us.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LineAttribute
    {
        public uint Id;
        public uint Padding;
        public ulong Value;
    }

    /// <summary><c>struct gpio_v2_line_config_attribute</c> (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LineConfigAttribute
    {
        public LineAttribute Attribute;
        public ulong Mask;
    }

    /// <summary>The fixed array <c>attrs[GPIO_V2_LINE_NUM_ATTRS_MAX]</c>.</summary>
    [InlineArray(LineAttributesMax)]
    public struct LineConfigAttributes
    {
        private LineConfigAttribute _element0;
    }

    /// <summary><c>struct gpio_v2_line_config</c> (272 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct LineConfig
    {
        public ulong Flags;
        public uint AttributeCount;
        public fixed uint Padding[5];
        public LineConfigAttributes Attributes;
    }

    /// <summary><c>struct gpio_v2_line_request</c> (592 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct LineRequest
    {
        public fixed uint Offsets[LinesMax];
        public fixed byte Consumer[NameBytesMax];
        public LineConfig Config;
        public uint LineCount;
        public uint EventBufferSize;
        public fixed uint Padding[5];
        public int Fd;
    }

    /// <summary><c>struct gpio_v2_line_values</c> (16 bytes): bits, mask.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LineValues
    {
        public ulong Bits;
        public ulong Mask;
    }

    /// <summary><c>struct gpio_v2_line_event</c> (48 bytes); decoded from bytes by <see cref="GpioLineEvent.TryDecode"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct LineEvent
    {
        public ulong TimestampNs;
        public uint Id;
        public uint Offset;
        public uint Seqno;
        public uint LineSeqno;
        public fixed uint Padding[6];
    }
}
