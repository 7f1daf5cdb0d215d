namespace Sidus.Store.Tests.Support;

/// <summary>A fresh store in a temp data directory.</summary>
public sealed class StoreFixture : IDisposable
{
    private readonly TempDirectory _temp = new("sidus-store");

    public StoreFixture()
    {
        Home = _temp.Sub("home");
        Repository = Repository.Open(Home);
        Images = new ImageStore(Repository) { LockWait = TimeSpan.FromSeconds(5) };
    }

    public string Home { get; }
    public Repository Repository { get; }
    public ImageStore Images { get; }

    public string Dir(string name)
    {
        var path = _temp.Sub(name);
        Directory.CreateDirectory(path);
        return path;
    }

    public VersionResult Import(string image, string source) =>
        Images.ImportDirectory(image, source, "test", null, CancellationToken.None);

    public Checkout.CheckoutResult Checkout(string spec, string target, bool dryRun = false, Action<Checkout.SyncAction, byte[]>? onChange = null, bool checksum = false) =>
        Images.Checkout(spec, target, new Checkout.CheckoutOptions { DryRun = dryRun, OnChange = onChange, Checksum = checksum }, CancellationToken.None);

    public void Dispose()
    {
        Repository.Dispose();
        _temp.Dispose();
    }
}
