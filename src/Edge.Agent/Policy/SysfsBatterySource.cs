namespace CortexEdge.Agent.Policy;

/// <summary>
/// Reads batteries and external supplies from the kernel's power-supply class
/// (<c>/sys/class/power_supply/*</c>). Every supply directory is read on each call:
/// <list type="bullet">
/// <item><c>type</c> <c>Battery</c> with <c>scope</c> not <c>Device</c> (a mouse's or phone's battery is not ours) and
/// <c>present</c> not 0: <c>capacity</c> (percent), or <c>energy_now/energy_full</c> or
/// <c>charge_now/charge_full</c> when <c>capacity</c> is absent; <c>status</c>.</item>
/// <item><c>type</c> <c>Mains</c>, <c>USB</c>, <c>USB_*</c>, <c>Wireless</c> or <c>UPS</c>: <c>online</c>.</item>
/// </list>
/// Several batteries are combined weighted by their full energy (or charge) when every battery
/// has it, else averaged. External power is online when any supply is online or any battery
/// charges; offline when supplies exist and none is online. Thread safe (no state).
/// </summary>
public sealed class SysfsBatterySource : IBatterySource
{
    /// <summary>Where the kernel publishes power supplies.</summary>
    public const string DefaultRoot = "/sys/class/power_supply";

    private readonly string _root;

    /// <summary>Creates a reader of <paramref name="root"/> (tests pass a fake tree).</summary>
    public SysfsBatterySource(string root = DefaultRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = root;
    }

    /// <summary>The power-supply class directory this source reads.</summary>
    public string Root => _root;

    /// <inheritdoc />
    public BatteryReading Read()
    {
        var problems = new List<string>();
        var sources = new List<string>();
        string[] supplies;
        try
        {
            supplies = Directory.Exists(_root) ? Directory.GetDirectories(_root) : [];
        }
        catch (IOException exception)
        {
            problems.Add($"{_root}: cannot list supplies ({exception.Message})");
            supplies = [];
        }
        catch (UnauthorizedAccessException exception)
        {
            problems.Add($"{_root}: cannot list supplies ({exception.Message})");
            supplies = [];
        }
        Array.Sort(supplies, StringComparer.Ordinal);

        int batteryCount = 0;
        double capacitySum = 0, weightedSum = 0, weightSum = 0;
        int capacityCount = 0;
        bool allWeighted = true;
        bool anyDischarging = false, anyCharging = false, anyNotCharging = false, allFull = true, anyStatus = false;
        int supplyCount = 0, onlineCount = 0;

        foreach (string directory in supplies)
        {
            string name = Path.GetFileName(directory);
            if (!SysfsAttribute.TryRead(Path.Combine(directory, "type"), problems, out string type))
            {
                problems.Add($"{Path.Combine(directory, "type")}: missing; supply '{name}' ignored");
                continue;
            }
            if (type == "Battery")
            {
                if (SysfsAttribute.TryRead(Path.Combine(directory, "scope"), problems, out string scope) && scope == "Device")
                    continue;
                if (SysfsAttribute.TryRead(Path.Combine(directory, "present"), problems, out string present) && present == "0")
                    continue;
                batteryCount++;
                sources.Add(name);
                double? capacity = ReadCapacity(directory, problems, out double? weight);
                if (capacity is double value)
                {
                    capacitySum += value;
                    capacityCount++;
                    if (weight is double w && w > 0)
                    {
                        weightedSum += value * w;
                        weightSum += w;
                    }
                    else
                    {
                        allWeighted = false;
                    }
                }
                BatteryChargeState state = ReadStatus(Path.Combine(directory, "status"), problems);
                anyStatus |= state != BatteryChargeState.Unknown;
                anyDischarging |= state == BatteryChargeState.Discharging;
                anyCharging |= state == BatteryChargeState.Charging;
                anyNotCharging |= state == BatteryChargeState.NotCharging;
                allFull &= state == BatteryChargeState.Full;
            }
            else if (IsExternalSupply(type))
            {
                long? online = SysfsAttribute.ReadInteger(Path.Combine(directory, "online"), problems, 0, 255);
                if (online is null)
                    continue;
                supplyCount++;
                sources.Add(name);
                if (online.Value != 0)
                    onlineCount++;
            }
        }

        int? capacityPercent = null;
        if (capacityCount > 0)
        {
            double combined = allWeighted && weightSum > 0 && capacityCount == batteryCount ? weightedSum / weightSum : capacitySum / capacityCount;
            capacityPercent = (int)Math.Round(Math.Clamp(combined, 0, 100), MidpointRounding.AwayFromZero);
        }

        BatteryChargeState chargeState = batteryCount == 0 || !anyStatus ? BatteryChargeState.Unknown
            : anyDischarging ? BatteryChargeState.Discharging
            : anyCharging ? BatteryChargeState.Charging
            : allFull ? BatteryChargeState.Full
            : anyNotCharging ? BatteryChargeState.NotCharging
            : BatteryChargeState.Unknown;

        ExternalPowerState external = onlineCount > 0 || anyCharging ? ExternalPowerState.Online
            : supplyCount > 0 ? ExternalPowerState.Offline
            : ExternalPowerState.Unknown;

        return new BatteryReading(batteryCount > 0, capacityPercent, chargeState, external, sources, problems);
    }

    private static bool IsExternalSupply(string type) =>
        type is "Mains" or "USB" or "Wireless" or "UPS" || type.StartsWith("USB_", StringComparison.Ordinal);

    private static double? ReadCapacity(string directory, List<string> problems, out double? weight)
    {
        weight = null;
        long? energyFull = SysfsAttribute.ReadInteger(Path.Combine(directory, "energy_full"), problems, 0);
        long? chargeFull = energyFull is null ? SysfsAttribute.ReadInteger(Path.Combine(directory, "charge_full"), problems, 0) : null;
        long? full = energyFull ?? chargeFull;
        if (full > 0)
            weight = full;

        long? capacity = SysfsAttribute.ReadInteger(Path.Combine(directory, "capacity"), problems, 0, 100);
        if (capacity is long percent)
            return percent;

        // No (usable) capacity attribute: some fuel gauges only publish energy or charge counters.
        long? now = energyFull is not null
            ? SysfsAttribute.ReadInteger(Path.Combine(directory, "energy_now"), problems, 0)
            : SysfsAttribute.ReadInteger(Path.Combine(directory, "charge_now"), problems, 0);
        if (now is long current && full is long total && total > 0)
            return Math.Clamp(100.0 * current / total, 0, 100);
        return null;
    }

    private static BatteryChargeState ReadStatus(string path, List<string> problems)
    {
        if (!SysfsAttribute.TryRead(path, problems, out string status))
            return BatteryChargeState.Unknown;
        switch (status)
        {
            case "Charging": return BatteryChargeState.Charging;
            case "Discharging": return BatteryChargeState.Discharging;
            case "Not charging": return BatteryChargeState.NotCharging;
            case "Full": return BatteryChargeState.Full;
            case "Unknown": return BatteryChargeState.Unknown;
            default:
                problems.Add($"{path}: '{SysfsAttribute.Shorten(status)}' is not a known battery status");
                return BatteryChargeState.Unknown;
        }
    }
}
