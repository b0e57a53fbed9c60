namespace Migu.Core.Distributed;

/// <summary>One collective's result on one rank against the value it must have.</summary>
/// <param name="Name">What was checked (e.g. "all-reduce sum fp32").</param>
/// <param name="Passed">Whether every element was as expected.</param>
/// <param name="Detail">Expected and seen values, for the report.</param>
public sealed record CollectiveCheck(string Name, bool Passed, string Detail);
