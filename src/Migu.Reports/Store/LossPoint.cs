namespace Migu.Reports.Store;

/// <summary>One row of a run's <c>loss.csv</c>: one optimizer step.</summary>
/// <param name="Step">Global step, counted across all tasks of the run.</param>
/// <param name="TaskIndex">Position of the task in the training order (0-based).</param>
/// <param name="Task">Dataset name of the task being trained.</param>
/// <param name="Epoch">Epoch within the task.</param>
/// <param name="Loss">Training loss of the step.</param>
/// <param name="Lr">Learning rate used by the step.</param>
/// <param name="Tokens">Non-padding tokens of the step, as the runner counts them.</param>
/// <param name="Seconds">Seconds since the run started.</param>
public sealed record LossPoint(long Step, int TaskIndex, string Task, double Epoch, double Loss, double Lr, long Tokens, double Seconds);
