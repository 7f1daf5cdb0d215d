using Sidus.Agent;

// As /init of the initramfs: boot the node. "report up": the booted system's "up" unit (image, identity, memory).
// "report STAGE [DETAIL]": post one event. "nbd-watch": keep a shared root's NBD connection alive (Boot/NbdWatch.cs).
// "service [--root DIR --server URL --mac MAC --session FILE]": wait for the admin's requests (Service/AgentService.cs); the options
// point it at a plain directory and a server, for tests. "update" / "drift": an installed node's update and drift
// report (Update/UpdateCommand.cs; --root points them at any directory). "exec-in ROOT PROGRAM ARGS": chroot and
// exec (the install runs the image's tools so, Install/ToolRoot.cs).
// Without OpenSSL (the initramfs) the store's ids are hashed by the agent's own SHA-256 (Fetch/Sha256.cs).
Sidus.Agent.Fetch.Sha256.UseWhereNoOpenSsl();
return args switch
{
    ["service"] => await Sidus.Agent.Service.AgentService.RunAsync("/"),
    ["service", "--root", var root, "--server", var server, "--mac", var mac, "--session", var session] =>
        await Sidus.Agent.Service.AgentService.RunAsync(root, server, mac, session),
    ["exec-in", var root, var program, .. var rest] => Sidus.Agent.Install.ToolRoot.ExecIn(root, program, rest),
    ["update", .. var options] => await Sidus.Agent.Update.UpdateCommand.UpdateAsync(options),
    ["drift", .. var options] => Sidus.Agent.Update.UpdateCommand.Drift(options),
    ["nbd-watch"] => await Sidus.Agent.Boot.NbdWatch.RunAsync(),
    ["report", "up"] => await UpCommand.RunAsync(),
    ["report", var stage, .. var rest] => await AgentMain.ReportAsync(stage, string.Join(' ', rest)),
    _ => await AgentMain.BootAsInitAsync(),
};
