namespace Sidus.Store.Tests;

public sealed class TaskEndTests
{
    [Fact]
    public void WaitEnded_WaitsForAFailingTask_AndDoesNotThrow()
    {
        var failing = Task.Run(() =>
        {
            Thread.Sleep(100);
            throw new IOException("the lesser error");
        });

        failing.WaitEnded();

        Assert.True(failing.IsFaulted);
    }

    [Fact]
    public void WaitEnded_WaitsForAResult()
    {
        var counted = Task.Run(() =>
        {
            Thread.Sleep(100);
            return 42;
        });

        counted.WaitEnded();

        Assert.True(counted.IsCompletedSuccessfully);
    }
}
