using Migu.Continual.Training;

namespace Migu.Continual.Runs;

/// <summary>What a run reports as it goes (the CLI draws progress bars from it); every member may be a no-op.</summary>
public interface IRunObserver
{
    /// <summary>Training of phase <paramref name="index"/> (a task, or the joint multi-task phase) begins at <paramref name="startStep"/> of <paramref name="totalSteps"/>.</summary>
    void TrainingStarted(int index, int count, string name, int totalSteps, int startStep);

    /// <summary>An optimizer step finished; <paramref name="tokensPerSecond"/> is measured over the task so far.</summary>
    void StepDone(StepRecord step, double tokensPerSecond);

    /// <summary>Scoring begins: <paramref name="title"/> says of what (e.g. "baseline", "after agnews").</summary>
    void EvaluationStarted(string title, int prompts);

    void EvaluationProgress(int prompts);

    void EvaluationFinished();

    /// <summary>A phase's row of the accuracy matrix is committed.</summary>
    void PhaseFinished(int index, RunMetrics metrics);

    void Info(string message);
}

/// <summary>An observer that ignores everything.</summary>
public sealed class SilentObserver : IRunObserver
{
    public static SilentObserver Instance { get; } = new();

    public void TrainingStarted(int index, int count, string name, int totalSteps, int startStep)
    {
    }

    public void StepDone(StepRecord step, double tokensPerSecond)
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

    public void PhaseFinished(int index, RunMetrics metrics)
    {
    }

    public void Info(string message)
    {
    }
}
