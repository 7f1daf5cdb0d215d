using Sidus.Artifacts.Versions;
using Sidus.Store;

namespace Sidus.Artifacts.Tests.Versions;

/// <summary>
/// The one rule for "the kernel of this version", which the boot script (the image's own kernel) and the initramfs
/// builder (the Sidus kernel and its modules) both follow, on trees laid out like Debian's.
/// </summary>
public sealed class KernelImageTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("sidus-kernel-").FullName;
    private readonly List<Repository> _opened = [];

    public void Dispose()
    {
        _opened.ForEach(r => r.Dispose());
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public void Find_VmlinuzLink_ItsTargetEvenWhenANewerKernelIsThere()
    {
        var kernel = Find(root =>
        {
            Kernel(root, "6.1.0-9-amd64", modules: true);
            Kernel(root, "6.1.0-18-amd64", modules: true);
            File.CreateSymbolicLink(Path.Combine(root, "vmlinuz"), "boot/vmlinuz-6.1.0-9-amd64");
        });
        Assert.Equal(("/boot/vmlinuz-6.1.0-9-amd64", "6.1.0-9-amd64"), (kernel!.Path, kernel.Release));
    }

    [Fact]
    public void Find_NoLink_NewestReleaseWithModulesInstalled()
    {
        var kernel = Find(root =>
        {
            Kernel(root, "6.1.0-9-amd64", modules: true);
            Kernel(root, "6.1.0-18-amd64", modules: false);
        });
        Assert.Equal("6.1.0-9-amd64", kernel!.Release);
    }

    [Fact]
    public void Find_NoLinkNoModules_NewestRelease_DigitRunsAsNumbers()
    {
        var kernel = Find(root =>
        {
            Kernel(root, "6.1.0-9-amd64", modules: false);
            Kernel(root, "6.1.0-18-amd64", modules: false);
            Kernel(root, "5.10.0-30-amd64", modules: false);
        });
        Assert.Equal("/boot/vmlinuz-6.1.0-18-amd64", kernel!.Path);
    }

    [Fact]
    public void Find_LinkLoopOrNoKernel_NoneAndFindSaysWhat()
    {
        Assert.Null(Find(root =>
        {
            File.CreateSymbolicLink(Path.Combine(root, "vmlinuz"), "vmlinuz.old");
            File.CreateSymbolicLink(Path.Combine(root, "vmlinuz.old"), "vmlinuz");
        }));
        var files = Version(root => Directory.CreateDirectory(Path.Combine(root, "etc")));
        var e = Assert.Throws<StoreException>(() => KernelImage.Find(files));
        Assert.Equal(KernelImage.NoKernel, e.Message);
    }

    [Fact]
    public void ReleaseOrder_NumbersCompareAsNumbers()
    {
        Assert.True(ReleaseOrder.Instance.Compare("6.1.0-9-amd64", "6.1.0-18-amd64") < 0);
        Assert.True(ReleaseOrder.Instance.Compare("5.10.0-30-amd64", "6.1.0-9-amd64") < 0);
        Assert.True(ReleaseOrder.Instance.Compare("6.1.0-09", "6.1.0-9") == 0);
        Assert.True(ReleaseOrder.Instance.Compare("6.1.0-9-amd64", "6.1.0-9-cloud-amd64") < 0);
    }

    private KernelImage? Find(Action<string> layout) => KernelImage.TryFind(Version(layout));

    private VersionFiles Version(Action<string> layout)
    {
        var root = Path.Combine(_home, "root-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        layout(root);
        var repository = Repository.Open(_home);
        _opened.Add(repository);
        var id = new ImageStore(repository).ImportDirectory("k", root, "kernel test", null, CancellationToken.None).Id;
        return new VersionFiles(repository, repository.ReadCommit(id));
    }

    private static void Kernel(string root, string release, bool modules)
    {
        Directory.CreateDirectory(Path.Combine(root, "boot"));
        File.WriteAllText(Path.Combine(root, "boot", "vmlinuz-" + release), "kernel " + release);
        if (modules)
        {
            Directory.CreateDirectory(Path.Combine(root, "lib", "modules", release));
            File.WriteAllText(Path.Combine(root, "lib", "modules", release, "modules.dep"), string.Empty);
        }
    }
}
