namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A golden client for the capture tests: Debian's real sshd, in a network namespace of its own, listening on that
/// namespace's loopback and chrooted into a root tree (ChrootDirectory). sshd wants every component of that path
/// root-owned and closed to others, so it runs in a private mount namespace where the tree is bound under a fresh
/// tmpfs at /mnt, with /proc mounted in it and a tmpfs on its /dev/shm, as on a running machine. Keys (host and
/// client) and known_hosts are made for each client; dispose stops sshd and removes the namespace. sshd looks a user
/// up before it enters the chroot: <see cref="User"/> is added to the host's /etc/passwd in sshd's mount namespace
/// only (the tree must have that user too for its sudo: <see cref="UserEntry"/>).
/// </summary>
internal sealed class GoldenClient : IDisposable
{
    public const string Address = "127.0.0.1";

    /// <summary>A user who may log in (with the test's key, like root), and uses sudo where the tree has it.</summary>
    public const string User = "golden-admin";

    /// <summary>Its passwd line, the same on the host side (sshd's) and in the tree.</summary>
    public const string UserEntry = User + ":x:1500:1500:Golden client admin:/home/" + User + ":/bin/sh";

    private const string SshdScript = """
        set -e
        tree="$1"; config="$2"; passwd="$3"
        mount --bind "$passwd" /etc/passwd
        mount -t tmpfs -o mode=0755 golden /mnt
        mkdir /mnt/root
        mount --bind "$tree" /mnt/root
        mount -t proc proc /mnt/root/proc
        mount -t tmpfs -o mode=1777 shm /mnt/root/dev/shm
        exec /usr/sbin/sshd -D -e -f "$config"
        """;

    private readonly string _work;
    private readonly BackgroundProcess _sshd;

    public GoldenClient(NetworkNamespace ns, string tree)
    {
        Namespace = ns;
        Tree = tree;
        _work = TestWorkDirectory.Create("sidus-golden-");
        var keygen = Tool.Require("ssh-keygen", "openssh-client");
        Tool.Run(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "golden-host", "-f", HostKey);
        Tool.Run(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "sidus-test", "-f", ClientKey);
        File.Copy(ClientKey + ".pub", Path.Combine(_work, "authorized_keys"));
        // sshd reads authorized_keys as the user logging in: the work directory may be passed through (its private
        // keys stay 0600), the file read.
        File.SetUnixFileMode(_work, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(Path.Combine(_work, "authorized_keys"), (UnixFileMode)0x1A4);
        File.WriteAllText(KnownHosts, $"{Address} {File.ReadAllText(HostKey + ".pub").Trim()}\n");
        File.WriteAllText(Path.Combine(_work, "sshd_config"), $"""
            Port 22
            ListenAddress {Address}
            HostKey {HostKey}
            PermitRootLogin prohibit-password
            AuthorizedKeysFile {_work}/authorized_keys
            StrictModes no
            UsePAM no
            PidFile none
            ChrootDirectory /mnt/root

            """);
        // root logs in with /bin/sh, which every tree has (the host's root may have bash, which a minimal client lacks).
        var passwd = File.ReadAllLines("/etc/passwd").Select(line => line.StartsWith("root:", StringComparison.Ordinal)
            ? string.Join(':', line.Split(':')[..6]) + ":/bin/sh" : line);
        File.WriteAllText(Path.Combine(_work, "passwd"), string.Join('\n', passwd) + "\n" + UserEntry + "\n");
        Directory.CreateDirectory("/run/sshd"); // sshd's privilege separation directory, as its package makes it
        Tool.Require("sshd", "openssh-server");
        _sshd = new BackgroundProcess(Tool.Require("ip", "iproute2"),
            ["netns", "exec", ns.Name, Tool.Require("unshare", "util-linux"), "--mount", "--propagation", "private", "--",
             "/bin/sh", "-c", SshdScript, "golden", tree, Path.Combine(_work, "sshd_config"), Path.Combine(_work, "passwd")],
            Path.Combine(_work, "sshd.log"));
        WaitUntilServing();
    }

    public NetworkNamespace Namespace { get; }
    public string Tree { get; }
    public string Url => $"ssh://root@{Address}";
    public string UserUrl => $"ssh://{User}@{Address}";
    public string HostKey => Path.Combine(_work, "host_key");
    public string ClientKey => Path.Combine(_work, "client_key");
    public string KnownHosts => Path.Combine(_work, "known_hosts");

    /// <summary>`image capture` options that log in with the test's key and trust only the client's host key.</summary>
    public string[] CaptureOptions(string? knownHosts = null) =>
        ["--identity", ClientKey, "--ssh-option", $"UserKnownHostsFile={knownHosts ?? KnownHosts}", "--ssh-option", "GlobalKnownHostsFile=/dev/null"];

    /// <summary>Sets the options of the test key's line in authorized_keys (command="..." stands in for what a login
    /// runs before the capture's script); "" gives the plain key back.</summary>
    public void KeyOptions(string options) =>
        File.WriteAllText(Path.Combine(_work, "authorized_keys"), (options.Length > 0 ? options + " " : "") + File.ReadAllText(ClientKey + ".pub"));

    /// <summary>Runs a shell command on the client (inside its chroot, as the walker sees it).</summary>
    public (int Code, string Output) Ssh(string command) =>
        Tool.TryRun(TimeSpan.FromSeconds(60), Tool.Require("ip", "iproute2"),
            ["netns", "exec", Namespace.Name, Tool.Require("ssh", "openssh-client"), "-i", ClientKey, "-o", "BatchMode=yes",
             "-o", $"UserKnownHostsFile={KnownHosts}", "-o", "StrictHostKeyChecking=yes", $"root@{Address}", command]);

    private void WaitUntilServing()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var (code, output) = Ssh("true");
            if (code == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline || _sshd.HasExited)
            {
                throw new InvalidOperationException($"sshd did not serve the golden client: {output}\n{File.ReadAllText(Path.Combine(_work, "sshd.log"))}");
            }

            Thread.Sleep(200);
        }
    }

    public void Dispose()
    {
        _sshd.Dispose();
        var failures = new List<Exception>();
        TestWorkDirectory.Remove(_work, failures);
    }
}
