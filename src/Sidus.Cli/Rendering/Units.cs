namespace Sidus.Cli.Rendering;

public static class Units
{
    public static string Bytes(long bytes) => Sidus.Linux.ByteUnits.Format(bytes);

    public static string Time(DateTimeOffset time) =>
        time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
