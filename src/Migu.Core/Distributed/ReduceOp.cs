namespace Migu.Core.Distributed;

/// <summary>How an all-reduce combines the ranks' values.</summary>
public enum ReduceOp
{
    Sum,

    /// <summary>The sum divided by the world size.</summary>
    Average,
}
