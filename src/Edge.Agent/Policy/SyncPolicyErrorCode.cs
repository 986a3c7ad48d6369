namespace CortexEdge.Agent.Policy;

/// <summary>
/// Error codes of the sync policy and its inputs. Values are stable: they appear in logs and in
/// the agent's status output. The agent reserves 1000-1099 for Policy/.
/// </summary>
public enum SyncPolicyErrorCode
{
    /// <summary>No specific code.</summary>
    Unknown = 0,

    /// <summary>A <see cref="SyncPolicyOptions"/> or input option value is out of range.</summary>
    OptionsInvalid = 1000,

    /// <summary>The configured GPIO character device (<c>/dev/gpiochipN</c>) does not exist.</summary>
    GpioChipNotFound = 1010,

    /// <summary>The GPIO character device exists but this process may not open it.</summary>
    GpioChipAccessDenied = 1011,

    /// <summary>The kernel refused the line request (not a GPIO chip, line busy, offset out of range).</summary>
    GpioLineRequestFailed = 1012,

    /// <summary>Reading the initial line value or the line's event stream failed.</summary>
    GpioReadFailed = 1013,

    /// <summary>The process is not on a platform whose GPIO uAPI layout this code encodes (Linux, little endian, 64-bit).</summary>
    GpioUnsupportedPlatform = 1014,
}
