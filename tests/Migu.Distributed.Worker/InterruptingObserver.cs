using System.Globalization;
using Migu.Continual.Runs;
using Migu.Continual.Training;

namespace Migu.Distributed.Worker;

/// <summary>Interrupts a run where a test asks: after a committed phase (a crash), or after a step (a stop request).</summary>
internal sealed class InterruptingObserver(CancellationTokenSource cancel, string? stopAfterPhase, string? cancelAfter) : IRunObserver
{
    private readonly int? phase = stopAfterPhase is null ? null : int.Parse(stopAfterPhase, CultureInfo.InvariantCulture);
    private readonly (int Task, int Step)? step = cancelAfter?.Split(':') is [string t, string s]
        ? (int.Parse(t, CultureInfo.InvariantCulture), int.Parse(s, CultureInfo.InvariantCulture))
        : null;

    public void PhaseFinished(int index, RunMetrics metrics)
    {
        if (index == phase)
        {
            throw new StopException();
        }
    }

    public void StepDone(StepRecord record, double tokensPerSecond)
    {
        if (step is var (task, at) && record.TaskIndex == task && record.Step + 1 == at)
        {
            cancel.Cancel();
        }
    }

    public void TrainingStarted(int index, int count, string name, int totalSteps, int startStep)
    {
    }

    public void EvaluationStarted(string title, int prompts)
    {
    }

    public void EvaluationProgress(int prompts)
    {
    }

    public void EvaluationFinished()
    {
    }

    public void Info(string message)
    {
    }

    /// <summary>The simulated crash.</summary>
    public sealed class StopException : Exception
    {
    }
}
