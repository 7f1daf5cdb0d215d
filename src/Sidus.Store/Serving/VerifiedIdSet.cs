namespace Sidus.Store.Serving;

/// <summary>
/// The ids whose data was checked against their hash, bounded in count. When full it starts again empty: forgetting
/// only costs a second check, and a clear bound beats an eviction order nobody can predict.
/// </summary>
public sealed class VerifiedIdSet
{
    private readonly ConcurrentDictionary<ObjectId, byte> _ids = new();

    public VerifiedIdSet(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count => _ids.Count;

    /// <summary>How many times the set was emptied because it was full.</summary>
    public int Resets { get; private set; }

    public bool Contains(ObjectId id) => _ids.ContainsKey(id);

    public void Add(ObjectId id)
    {
        if (_ids.Count >= Capacity)
        {
            _ids.Clear();
            Resets++;
        }

        _ids.TryAdd(id, 0);
    }
}
