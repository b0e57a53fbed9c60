namespace Migu.Continual.Distributed;

/// <summary>One forward/backward of a training step: its examples and its place among the step's micro-batches.</summary>
/// <param name="Index">0-based among all micro-batches of the step, over every rank (it seeds the micro-batch's dropout).</param>
/// <param name="Examples">Indices into the task's training data.</param>
public sealed record MicroBatch(int Index, int[] Examples);
