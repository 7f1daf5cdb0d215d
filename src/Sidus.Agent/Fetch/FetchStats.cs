namespace Sidus.Agent.Fetch;

internal sealed record FetchStats(int Entries, int Files, long Bytes, int Requests, TimeSpan Elapsed);
