using Sidus.Agent;

// As /init of the initramfs: boot the node. "report up": the booted system's "up" unit (image, identity, memory).
// "report STAGE [DETAIL]": post one event. "nbd-watch": keep a shared root's NBD connection alive (Boot/NbdWatch.cs).
return args switch
{
    ["nbd-watch"] => await Sidus.Agent.Boot.NbdWatch.RunAsync(),
    ["report", "up"] => await UpCommand.RunAsync(),
    ["report", var stage, .. var rest] => await AgentMain.ReportAsync(stage, string.Join(' ', rest)),
    _ => await AgentMain.BootAsInitAsync(),
};
