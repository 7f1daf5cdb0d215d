using System.Security.Cryptography;
using Sidus.Linux;

namespace Sidus.Nodes.Overrides;

/// <summary>One SSH host key pair of a node.</summary>
public sealed record SshHostKey(string Type, byte[] PrivateKey, byte[] PublicKey)
{
    /// <summary>"SHA256:..." as <c>ssh-keygen -l</c> prints it: the unpadded base64 of the SHA-256 of the key blob.</summary>
    public string Fingerprint => Fingerprints.OfPublicKey(Encoding.ASCII.GetString(PublicKey));
}

/// <summary>What a node keeps across boots and renders: its machine-id and SSH host keys.</summary>
public sealed record NodeIdentity(string MachineId, IReadOnlyList<SshHostKey> HostKeys);

/// <summary>
/// Generates a node's machine-id and SSH host keys (ed25519, ecdsa, rsa, with ssh-keygen from Debian's
/// openssh-client) the first time they are needed and keeps them in STATE/NAME (directory 0700, files 0600): they
/// are never generated again unless the node is removed (<see cref="Forget"/>). Generation happens in a fresh
/// directory renamed into place, so two processes racing (the server and `sidus node render`) both end up with
/// the same, complete set: the loser's rename fails and it reads the winner's.
/// </summary>
public sealed class NodeSecrets(string stateRoot)
{
    public const string MachineIdFile = "machine-id";
    public static readonly IReadOnlyList<string> KeyTypes = ["ed25519", "ecdsa", "rsa"];
    private const int MachineIdBytes = 16;
    private const string RsaBits = "3072";
    private static readonly TimeSpan KeygenTimeout = TimeSpan.FromSeconds(60);
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public string StateRoot { get; } = stateRoot;

    public string DirectoryOf(string node) => Path.Combine(StateRoot, Names.Label(node, "node"));

    public static string KeyFileName(string type) => $"ssh_host_{type}_key";

    /// <summary>The node's identity, generating it on first use.</summary>
    public NodeIdentity Get(string node)
    {
        var dir = DirectoryOf(node);
        if (!Directory.Exists(dir))
        {
            Generate(node, dir);
        }

        return Read(dir);
    }

    /// <summary>True when the node's identity exists already (nothing is generated).</summary>
    public bool Exists(string node) => Directory.Exists(DirectoryOf(node));

    /// <summary>Deletes a removed node's identity; a node added again later under that name gets new keys.</summary>
    public bool Forget(string node)
    {
        var dir = DirectoryOf(node);
        if (!Directory.Exists(dir))
        {
            return false;
        }

        Directory.Delete(dir, recursive: true);
        return true;
    }

    private static NodeIdentity Read(string dir)
    {
        var machineId = File.ReadAllText(Path.Combine(dir, MachineIdFile)).Trim();
        var keys = KeyTypes.Select(t => new SshHostKey(
            t,
            File.ReadAllBytes(Path.Combine(dir, KeyFileName(t))),
            File.ReadAllBytes(Path.Combine(dir, KeyFileName(t) + ".pub")))).ToList();
        return new NodeIdentity(machineId, keys);
    }

    private void Generate(string node, string dir)
    {
        Directory.CreateDirectory(StateRoot, PrivateDirectory);
        var staging = Path.Combine(StateRoot, $".{node}.new-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging, PrivateDirectory);
        try
        {
            File.WriteAllText(Path.Combine(staging, MachineIdFile), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(MachineIdBytes)) + "\n");
            File.SetUnixFileMode(Path.Combine(staging, MachineIdFile), PrivateFile);
            foreach (var type in KeyTypes)
            {
                var file = Path.Combine(staging, KeyFileName(type));
                List<string> args = ["-q", "-t", type, "-N", string.Empty, "-C", $"root@{node}", "-f", file];
                if (type == "rsa")
                {
                    args.AddRange(["-b", RsaBits]);
                }

                RunKeygen(args);
                File.SetUnixFileMode(file, PrivateFile);
                File.SetUnixFileMode(file + ".pub", PrivateFile);
            }

            try
            {
                Directory.Move(staging, dir);
            }
            catch (IOException) when (Directory.Exists(dir))
            {
                // Another process generated this node's identity meanwhile: keep theirs (ours is deleted below).
            }
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static void RunKeygen(IReadOnlyList<string> args)
    {
        ProcessResult result;
        try
        {
            result = ProcessRunner.Run("ssh-keygen", args, "openssh-client", KeygenTimeout);
        }
        catch (Exception e) when (e is ToolStartException or TimeoutException)
        {
            throw new OverrideException(e.Message, e);
        }

        if (!result.Succeeded)
        {
            throw new OverrideException($"ssh-keygen {string.Join(' ', args)} failed ({result.ExitCode}): {result.Explanation}");
        }
    }
}

/// <summary>SSH public key fingerprints, computed here rather than by running ssh-keygen -l per key.</summary>
public static class Fingerprints
{
    /// <summary>"SHA256:BASE64" of an OpenSSH public key line ("TYPE BASE64 COMMENT").</summary>
    public static string OfPublicKey(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2)
        {
            throw new OverrideException("not an OpenSSH public key line: " + line.Trim());
        }

        var blob = Convert.FromBase64String(parts[1]);
        return "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');
    }
}
