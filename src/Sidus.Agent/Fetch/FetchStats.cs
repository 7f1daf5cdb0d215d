namespace Sidus.Agent.Fetch;

/// <summary>What a fetch did. DATA is the time until the last byte was written (the rest is owners, modes, times);
/// HASHING and WRITING are summed over the batches in flight, so they can exceed the wall time.</summary>
internal sealed record FetchStats(int Entries, int Files, long Bytes, int Requests, TimeSpan Elapsed, TimeSpan Data, TimeSpan Hashing, TimeSpan Writing);
