using System.Globalization;
using Migu.Continual.Runs;
using Migu.Continual.Training;

namespace Migu.Cli.Run;

/// <summary>Progress as plain lines (about every tenth of a task), for logs and redirected output.</summary>
internal sealed class PlainObserver(TextWriter output) : IRunObserver
{
    private string phase = string.Empty;
    private int lastDecile = -1;

    public void TrainingStarted(int index, int count, string name, int totalSteps, int startStep)
    {
        phase = $"[{index + 1}/{count}] {name}";
        lastDecile = -1;
        string from = startStep > 0 ? $", resuming at step {startStep}" : string.Empty;
        output.WriteLine($"{phase}: training, {totalSteps} steps{from}");
    }

    public void StepDone(StepRecord step, double tokensPerSecond)
    {
        int decile = (int)((step.Step + 1) * 10L / step.TotalSteps);
        if (decile != lastDecile && (decile > lastDecile || step.Step + 1 == step.TotalSteps))
        {
            lastDecile = decile;
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{phase}: step {step.Step + 1}/{step.TotalSteps}  loss {step.Loss + step.ExtraLoss:F4}  lr {step.Lr:G3}  {tokensPerSecond:N0} tok/s"));
        }
    }

    public void EvaluationStarted(string title, int prompts) => output.WriteLine($"scoring {title}: {prompts} prompts");

    public void EvaluationProgress(int prompts)
    {
    }

    public void EvaluationFinished()
    {
    }

    public void PhaseFinished(int index, RunMetrics metrics) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{phase}: accuracy {string.Join("  ", metrics.Tasks.Zip(metrics.AccuracyMatrix[index]).Select(x => $"{x.First} {x.Second:P1}"))}"));

    public void Info(string message) => output.WriteLine(message);
}
