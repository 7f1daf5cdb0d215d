namespace Sidus.Store.Build;

/// <summary>The store's way to find and run a system tool (debootstrap, unshare...): <see cref="ProcessRunner"/>, with its failures as store errors.</summary>
public static class ExternalTool
{
    /// <summary>Finds TOOL on PATH or in the sbin directories root's PATH has; null when absent.</summary>
    public static string? Find(string tool) => ProcessRunner.Find(tool);

    public static string Require(string tool, string package) =>
        Find(tool) ?? throw new StoreException($"'{tool}' is not installed: install it with 'apt-get install {package}'", StoreErrorKind.Failure);

    /// <summary>Runs the tool with each line of its output handed to ON_LINE; returns its exit code.</summary>
    public static async Task<int> RunLineByLineAsync(string file, IEnumerable<string> arguments, Action<string> onLine, CancellationToken cancellation)
    {
        try
        {
            return await ProcessRunner.RunLineByLineAsync(file, arguments, Path.GetFileName(file), onLine, cancellation: cancellation);
        }
        catch (ToolStartException e)
        {
            throw new StoreException(e.Message, e);
        }
    }

    /// <summary>Runs the tool, its output going to our stderr/stdout as it comes; returns its exit code.</summary>
    public static async Task<int> RunAsync(string file, IEnumerable<string> arguments, CancellationToken cancellation,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        try
        {
            return await ProcessRunner.RunAttachedAsync(file, arguments, Path.GetFileName(file), environment, cancellation);
        }
        catch (ToolStartException e)
        {
            throw new StoreException(e.Message, e);
        }
    }
}
