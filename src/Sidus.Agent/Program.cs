using Sidus.Agent;

// As /init of the initramfs: boot the node. "report STAGE [DETAIL]": post one event (the booted system's "up" unit).
return args is ["report", var stage, .. var rest]
    ? await AgentMain.ReportAsync(stage, string.Join(' ', rest))
    : await AgentMain.BootAsync();
