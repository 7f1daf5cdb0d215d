namespace Sidus.Cli.Commands;

/// <summary>Runs a verb's body with the store opened and turns failures into a message and an exit code.</summary>
public static class CommandRunner
{
    public static readonly Option<int> Wait = new("--wait")
    {
        Description = "Seconds to wait for another writer to finish before giving up",
        DefaultValueFactory = _ => 30,
        HelpName = "SECONDS",
    };

    private const int InternalError = 70;

    /// <summary>Runs a synchronous BODY off the caller's thread.</summary>
    public static Task<int> Run(ParseResult result, CancellationToken cancellation, Func<ImageStore, CancellationToken, int> body) =>
        RunAsync(result, cancellation, (images, ct) => Task.Run(() => body(images, ct), ct));

    /// <summary>Runs an asynchronous BODY (awaited, never blocked on: cancellation and exceptions arrive as they are).</summary>
    public static Task<int> RunAsync(ParseResult result, CancellationToken cancellation, Func<ImageStore, CancellationToken, Task<int>> body) =>
        Task.Run(async () =>
        {
            try
            {
                var home = GlobalOptions.ResolveHome(result);
                using var repository = Repository.Open(home);
                if (repository.AccessChange is { } change)
                {
                    Console.Error.WriteLine("sidus: " + change);
                }

                var wait = result.GetResult(Wait) is null ? 30 : result.GetValue(Wait);
                var images = new ImageStore(repository)
                {
                    LockWait = TimeSpan.FromSeconds(Math.Max(0, wait)),
                    OnWaiting = message => Console.Error.WriteLine("sidus: " + message),
                };
                return await body(images, cancellation);
            }
            catch (OperationCanceledException)
            {
                CliError.Write("interrupted; nothing half-done was kept.");
                return ExitCodes.Interrupted;
            }
            catch (StoreException e)
            {
                CliError.Write(e.Message);
                return ExitCodes.For(e.Kind);
            }
            catch (LinuxException e)
            {
                CliError.Write(e.Message, Advice(e.Errno));
                return ExitCodes.Failure;
            }
            catch (UnauthorizedAccessException e) when (e.InnerException is LinuxException)
            {
                // HomeAccess's refusal: it says who may and what to do.
                CliError.Write(e.Message);
                return ExitCodes.Failure;
            }
            catch (UnauthorizedAccessException e)
            {
                CliError.Write(e.Message, "run as root, or choose a --home you can write");
                return ExitCodes.Failure;
            }
            catch (IOException e)
            {
                CliError.Write(e.Message, Advice(e.HResult & 0xFFFF));
                return ExitCodes.Failure;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                CliError.Write($"internal error, please report it with this text:\n{e}");
                return InternalError;
            }
        }, CancellationToken.None);

    private static string? Advice(int errno) => errno switch
    {
        Errno.ENOSPC => "the disk is full: free space, then run the command again; nothing partial was kept",
        Errno.EACCES or Errno.EPERM => "run as root: image trees hold files of many owners",
        _ => null,
    };
}
