using Sidus.Server.Configuration;

namespace Sidus.Cli.Commands.Service;

/// <summary>`sidus service`: `sidus serve` as a systemd service (the unit, the configuration in /etc/sidus).</summary>
public static class ServiceCommand
{
    private static readonly string[] NextSteps = ["systemctl daemon-reload", "systemctl enable --now sidus", "journalctl -u sidus -f"];

    public static Command Create()
    {
        var cmd = new Command("service", """
            Run `sidus serve` as a systemd service: the unit (Type=notify: READY, RELOADING, STOPPING and a 30 s
            watchdog; Restart=on-failure; reload re-reads the configuration without dropping leases or downloads;
            data in /var/lib/sidus) and its configuration, /etc/sidus/sidus.toml. See docs/serve.md.
            """);
        cmd.Subcommands.Add(Install());
        cmd.Subcommands.Add(Uninstall());
        cmd.Subcommands.Add(Unit());
        cmd.Subcommands.Add(Config());
        return cmd;
    }

    private static Option<string?> Root() => new("--root")
    {
        Description = "Write under this directory instead of / (a package's or an image's root)",
        HelpName = "DIR",
    };

    private static Option<string?> Binary() => new("--bin")
    {
        Description = $"The sidus the unit starts (default: this sidus binary, or {ServiceFiles.DefaultBinary} with --root or when run by dotnet)",
        HelpName = "PATH",
    };

    private static Command Install()
    {
        var root = Root();
        var bin = Binary();
        var json = GlobalOptions.Json();
        var cmd = new Command("install", $"""
            Write the unit to {ServiceFiles.UnitDirectory}/{ServiceFiles.UnitName} (replacing an older one) and the
            example configuration to {ServeConfigFile.SystemPath} unless it exists, then say what to run next
            (systemctl daemon-reload, systemctl enable --now sidus). Needs root unless --root is given.
            """)
        {
            root, bin, json,
        };
        cmd.SetAction(r => Run(() =>
        {
            var target = r.GetValue(root) ?? "/";
            var binary = r.GetValue(bin) ?? DefaultBinary(r.GetValue(root) is not null);
            if (r.GetValue(root) is null && !File.Exists(binary))
            {
                return InventoryCli.Error($"{binary} does not exist: say which sidus the service starts with --bin PATH");
            }

            var (unit, config) = ServiceFiles.Install(target, binary);
            var next = target == "/" ? NextSteps : [];
            if (r.GetValue(json))
            {
                JsonOutput.Write(new JsonObject
                {
                    ["unit"] = Json(unit),
                    ["config"] = Json(config),
                    ["binary"] = binary,
                    ["next"] = new JsonArray([.. next.Select(n => (JsonNode)JsonValue.Create(n))]),
                });
                return ExitCodes.Success;
            }

            Console.WriteLine($"unit    {unit.Path} ({Word(unit.Action)}; starts {binary})");
            Console.WriteLine($"config  {config.Path} ({(config.Action == ServiceFileAction.Written ? "written: the example, every setting commented out" : "kept: it exists")})");
            if (next.Length > 0)
            {
                Console.WriteLine("Next:");
                foreach (var step in next)
                {
                    Console.WriteLine("  " + step);
                }
            }

            return ExitCodes.Success;
        }));
        return cmd;
    }

    private static Command Uninstall()
    {
        var root = Root();
        var json = GlobalOptions.Json();
        var cmd = new Command("uninstall", $"""
            Remove the unit, and {ServeConfigFile.SystemPath} if it is still the unedited example (an edited one is
            kept). Refused while the service is enabled: run `systemctl disable --now sidus` first. Data in
            /var/lib/sidus is never touched.
            """)
        {
            root, json,
        };
        cmd.SetAction(r => Run(() =>
        {
            var target = r.GetValue(root) ?? "/";
            var (unit, config) = ServiceFiles.Uninstall(target);
            if (r.GetValue(json))
            {
                JsonOutput.Write(new JsonObject { ["unit"] = Json(unit), ["config"] = Json(config) });
                return ExitCodes.Success;
            }

            Console.WriteLine($"unit    {unit.Path} ({Word(unit.Action)})");
            Console.WriteLine($"config  {config.Path} ({(config.Action == ServiceFileAction.Kept ? "kept: it was edited" : Word(config.Action))})");
            if (target == "/" && unit.Action == ServiceFileAction.Removed)
            {
                Console.WriteLine("Next:\n  systemctl daemon-reload");
            }

            return ExitCodes.Success;
        }));
        return cmd;
    }

    private static Command Unit()
    {
        var bin = Binary();
        var cmd = new Command("unit", $"""
            Print the systemd unit (for a package: install it as /lib/systemd/system/{ServiceFiles.UnitName}).
            """)
        {
            bin,
        };
        cmd.SetAction(r => Run(() =>
        {
            Console.Out.Write(ServiceFiles.Unit(r.GetValue(bin) ?? ServiceFiles.DefaultBinary));
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private static Command Config()
    {
        var cmd = new Command("config", $"Print the example {ServeConfigFile.SystemPath}: every setting with its default, commented out");
        cmd.SetAction(_ =>
        {
            Console.Out.Write(ServiceFiles.ExampleConfig());
            return ExitCodes.Success;
        });
        return cmd;
    }

    /// <summary>This sidus when it is a real binary named sidus; otherwise (run by dotnet, or for a package) the packaged path.</summary>
    private static string DefaultBinary(bool forAnotherRoot) =>
        !forAnotherRoot && Environment.ProcessPath is { } self && Path.GetFileName(self) == "sidus" ? self : ServiceFiles.DefaultBinary;

    private static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ArgumentException e)
        {
            return InventoryCli.Error(e.Message);
        }
        catch (InvalidOperationException e)
        {
            return InventoryCli.Error(e.Message, ExitCodes.Conflict);
        }
        catch (UnauthorizedAccessException e)
        {
            return InventoryCli.Error(e.Message + " (run as root, or write under another directory with --root)");
        }
        catch (IOException e)
        {
            return InventoryCli.Error(e.Message);
        }
    }

    private static JsonObject Json(ServiceFile file) => new() { ["path"] = file.Path, ["action"] = Word(file.Action) };

    private static string Word(ServiceFileAction action) => action.ToString().ToLowerInvariant();
}
