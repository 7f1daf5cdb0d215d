using Xunit.Abstractions;
using Xunit.Sdk;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A test that boots VMs: run once more when it failed with <see cref="EmulatorFaultException"/> (the emulator broke,
/// which says nothing of Sidus), and only then. The first attempt's failure is kept at the head of the test's output.
/// </summary>
[XunitTestCaseDiscoverer("Sidus.E2E.Tests.Support.VmFactDiscoverer", "Sidus.E2E.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class VmFactAttribute : FactAttribute;

/// <summary>The theory form of <see cref="VmFactAttribute"/>: each data row is retried on its own.</summary>
[XunitTestCaseDiscoverer("Sidus.E2E.Tests.Support.VmTheoryDiscoverer", "Sidus.E2E.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class VmTheoryAttribute : TheoryAttribute;

public sealed class VmFactDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo attribute) =>
        [new VmTestCase(diagnostics, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method)];
}

public sealed class VmTheoryDiscoverer(IMessageSink diagnostics) : TheoryDiscoverer(diagnostics)
{
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(
        ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo attribute, object[] row) =>
        [new VmTestCase(DiagnosticMessageSink, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method, row)];
}

public sealed class VmTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public VmTestCase()
    {
    }

    public VmTestCase(IMessageSink diagnostics, TestMethodDisplay display, TestMethodDisplayOptions displayOptions, ITestMethod method, object[]? arguments = null)
        : base(diagnostics, display, displayOptions, method, arguments)
    {
    }

    public override async Task<RunSummary> RunAsync(
        IMessageSink diagnostics, IMessageBus bus, object[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellation)
    {
        var first = new HeldMessages();
        var summary = await base.RunAsync(diagnostics, first, constructorArguments, new ExceptionAggregator(aggregator), cancellation);
        if (first.EmulatorFault is not { } fault || cancellation.IsCancellationRequested)
        {
            first.Release(bus, prefix: null);
            return summary;
        }

        var note = $"[the first attempt failed, the emulator at fault; this is the second]\n{fault}\n\n";
        diagnostics.OnMessage(new DiagnosticMessage($"{DisplayName}: {fault}; running it once more"));
        var second = new HeldMessages();
        summary = await base.RunAsync(diagnostics, second, constructorArguments, new ExceptionAggregator(aggregator), cancellation);
        second.Release(bus, note);
        return summary;
    }

    /// <summary>An attempt's messages, held until it is known whether they are the test's result.</summary>
    private sealed class HeldMessages : IMessageBus
    {
        private readonly List<IMessageSinkMessage> _messages = [];

        /// <summary>The failure's message when the attempt failed with <see cref="EmulatorFaultException"/>.</summary>
        public string? EmulatorFault { get; private set; }

        public bool QueueMessage(IMessageSinkMessage message)
        {
            if (message is ITestFailed failed && failed.ExceptionTypes.FirstOrDefault() == typeof(EmulatorFaultException).FullName)
            {
                EmulatorFault = failed.Messages.FirstOrDefault() ?? failed.ExceptionTypes[0];
            }

            lock (_messages)
            {
                _messages.Add(message);
            }

            return true;
        }

        /// <summary>Passes the messages on, PREFIX put before the result's captured output.</summary>
        public void Release(IMessageBus bus, string? prefix)
        {
            foreach (var message in _messages)
            {
                bus.QueueMessage(prefix is null ? message : message switch
                {
                    ITestPassed p => new TestPassed(p.Test, p.ExecutionTime, prefix + p.Output),
                    ITestFailed f => new TestFailed(f.Test, f.ExecutionTime, prefix + f.Output, f.ExceptionTypes, f.Messages, f.StackTraces, f.ExceptionParentIndices),
                    _ => message,
                });
            }
        }

        public void Dispose()
        {
        }
    }
}
