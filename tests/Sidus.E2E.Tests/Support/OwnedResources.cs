namespace Sidus.E2E.Tests.Support;

/// <summary>
/// What a boot test set up (namespace, servers, VMs), released newest first: every one is released even when one
/// release fails, so a failing cleanup never leaves a namespace or a QEMU behind; the failures are returned.
/// </summary>
public sealed class OwnedResources
{
    private readonly List<IDisposable> _owned = [];

    public T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    public List<Exception> ReleaseAll()
    {
        var failures = new List<Exception>();
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                _owned[i].Dispose();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        _owned.Clear();
        return failures;
    }
}
