namespace CortexEdge.Agent.Policy;

/// <summary>
/// The rule that produced a <see cref="SyncDecision"/>, in the order the rules are tried (the first
/// that applies wins). docs/sync-policy.md has the table.
/// </summary>
public enum SyncRule
{
    /// <summary>1. The offline queue is nearly at its quota: sync now whatever else holds (data would otherwise be lost or refused).</summary>
    QuotaNearlyFull = 1,

    /// <summary>2. The battery is critical and discharging: defer.</summary>
    CriticalBattery,

    /// <summary>3. No network link is up: defer.</summary>
    NoLink,

    /// <summary>
    /// 4. A low battery or a costly link (rules 5, 8, 9) would send priority collections only, but
    /// normal or low-priority data is about to exceed its freshness bound: sync everything in one burst.
    /// </summary>
    FreshnessBound,

    /// <summary>5. The battery is low and discharging: priority collections only.</summary>
    LowBattery,

    /// <summary>6. The link is metered or poor, but the oldest unsent operation is too old: sync everything.</summary>
    CostlyLinkBacklogOld,

    /// <summary>7. The link is metered or poor, but the offline queue is filling: sync everything.</summary>
    CostlyLinkQuotaHigh,

    /// <summary>8. The link is metered: priority collections only.</summary>
    MeteredLink,

    /// <summary>9. The link is poor (weak Wi-Fi signal or slow broker round trip): priority collections only.</summary>
    PoorLink,

    /// <summary>10. Nothing restricts sync: sync everything.</summary>
    Unrestricted,
}
