namespace Sidus.Wire.Contracts;

/// <summary>
/// What the booted system says about itself when it is up (the sidus-up unit runs "agent report up"): its identity
/// (host name, version id, NAME@N, machine-id, the SHA256 fingerprint of its ed25519 SSH host key), its memory from
/// /proc/meminfo (in ram mode the root lives in shmem), how its root is made (FSTYPE:SOURCE of /, of the shared
/// lower layer and of the upper layer's filesystem) and how many times this root has booted (a counter kept in the
/// root itself, so it grows only where the root persists). Every field may be missing.
/// </summary>
public sealed record UpReport
{
    /// <summary>Starts <see cref="Detail"/>: the words a person or a log search looks for.</summary>
    public const string Marker = "SIDUS-NODE-UP";

    public string? Host { get; init; }
    public string? Image { get; init; }
    public string? ImageRef { get; init; }
    public string? MachineId { get; init; }
    public string? SshEd25519 { get; init; }
    public long? MemTotalKib { get; init; }
    public long? MemAvailableKib { get; init; }
    public long? ShmemKib { get; init; }
    public string? Root { get; init; }
    public string? Lower { get; init; }
    public string? Upper { get; init; }
    public int? Boot { get; init; }

    /// <summary>The report as JSON (as in <see cref="NodeEvent"/>), null members left out.</summary>
    public string ToJson() => ContractsJson.Write(json => ContractsJson.WriteUp(json, this));

    /// <summary>Reads a report; malformed JSON or a JSON value that is not an object throws <see cref="System.Text.Json.JsonException"/>.</summary>
    public static UpReport FromJson(ReadOnlySpan<byte> json) => ContractsJson.Read(json, "up report", ContractsJson.ReadUp);

    /// <summary>MemTotal - MemAvailable when both are known.</summary>
    public long? MemUsedKib => MemTotalKib - MemAvailableKib;

    /// <summary>
    /// The report for people: the marker, then KEY=VALUE words (host image imageref machine-id ssh-ed25519
    /// mem-total-kib mem-available-kib shmem-kib root lower upper boot mem-used-kib); missing values and values with
    /// blanks are left out. The event's detail line.
    /// </summary>
    public string Detail()
    {
        var words = new List<string> { Marker };
        void Add(string key, string? value)
        {
            if (value is { Length: > 0 } && !value.Any(char.IsWhiteSpace))
            {
                words.Add(key + "=" + value);
            }
        }

        static string? Number(long? n) => n?.ToString(CultureInfo.InvariantCulture);
        Add("host", Host);
        Add("image", Image);
        Add("imageref", ImageRef);
        Add("machine-id", MachineId);
        Add("ssh-ed25519", SshEd25519);
        Add("mem-total-kib", Number(MemTotalKib));
        Add("mem-available-kib", Number(MemAvailableKib));
        Add("shmem-kib", Number(ShmemKib));
        Add("root", Root);
        Add("lower", Lower);
        Add("upper", Upper);
        Add("boot", Number(Boot));
        Add("mem-used-kib", Number(MemUsedKib));
        return string.Join(' ', words);
    }
}
