namespace Migu.Continual.Distributed;

/// <summary>What the ranks agreed on at the end of a step's backward passes.</summary>
/// <param name="Loss">The step's task loss over the whole batch (every rank's share summed).</param>
/// <param name="Stop">Whether any rank was asked to stop (Ctrl-C): all stop before the next step.</param>
public readonly record struct StepSync(double Loss, bool Stop);
