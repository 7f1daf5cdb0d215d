// VM boots are CPU-heavy (tcg) and the fixture publishes the agent: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
