using System.Globalization;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Spectre.Console;

namespace Migu.Cli.Run;

/// <summary>Live progress bars (Spectre.Console): one per training phase with loss and tokens/s, one per scoring pass; ETA on each.</summary>
internal sealed class ProgressObserver(ProgressContext context) : IRunObserver
{
    private ProgressTask? training;
    private ProgressTask? scoring;
    private string phase = string.Empty;

    public void TrainingStarted(int index, int count, string name, int totalSteps, int startStep)
    {
        phase = $"[{index + 1}/{count}] {Markup.Escape(name)}";
        training = context.AddTask(phase, maxValue: totalSteps);
        training.Value = startStep;
    }

    public void StepDone(StepRecord step, double tokensPerSecond)
    {
        if (training is null)
        {
            return;
        }

        training.Value = step.Step + 1;
        training.Description = string.Create(
            CultureInfo.InvariantCulture,
            $"{phase} loss {step.Loss + step.ExtraLoss:F3} [grey]{tokensPerSecond:N0} tok/s[/]");
    }

    public void EvaluationStarted(string title, int prompts) =>
        scoring = context.AddTask($"scoring {Markup.Escape(title)}", maxValue: Math.Max(1, prompts));

    public void EvaluationProgress(int prompts)
    {
        if (scoring is not null)
        {
            scoring.Value = prompts;
        }
    }

    public void EvaluationFinished()
    {
        if (scoring is not null)
        {
            scoring.Value = scoring.MaxValue;
            scoring.StopTask();
        }
    }

    public void PhaseFinished(int index, RunMetrics metrics)
    {
        training?.StopTask();
        string row = string.Join("  ", metrics.Tasks.Zip(metrics.AccuracyMatrix[index]).Select(x => string.Create(CultureInfo.InvariantCulture, $"{Markup.Escape(x.First)} {x.Second:P1}")));
        AnsiConsole.MarkupLine($"{phase}: [green]{row}[/]");
    }

    public void Info(string message) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(message)}[/]");
}
