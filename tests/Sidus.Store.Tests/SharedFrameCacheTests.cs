using Sidus.Store.Packs;

namespace Sidus.Store.Tests;

public sealed class SharedFrameCacheTests
{
    [Fact]
    public void Put_OverTheBound_DropsTheOldestAndKeepsTheByteCount()
    {
        var cache = new SharedFrameCache(300);
        cache.Put(0, 0, new byte[100]);
        cache.Put(0, 100, new byte[100]);
        cache.Put(0, 200, new byte[100]);
        cache.Put(0, 300, new byte[100]);
        Assert.Equal(300, cache.Bytes);
        Assert.True(cache.TryGet(0, 300, out _));
        Assert.True(cache.TryGet(0, 100, out _));
    }

    [Fact]
    public void TryGet_DroppedFrameStillHeld_ReturnsTheSameArray()
    {
        var cache = new SharedFrameCache(100);
        var held = new byte[100];
        cache.Put(1, 0, held);
        cache.Put(1, 100, new byte[100]);
        Assert.True(cache.TryGet(1, 0, out var again));
        Assert.Same(held, again);
        Assert.Equal(100, cache.Bytes);
        GC.KeepAlive(held);
    }

    [Fact]
    public void Put_FrameBiggerThanTheBound_IsNotKept()
    {
        var cache = new SharedFrameCache(10);
        cache.Put(0, 0, new byte[11]);
        Assert.False(cache.TryGet(0, 0, out _));
        Assert.Equal(0, cache.Bytes);
    }
}
