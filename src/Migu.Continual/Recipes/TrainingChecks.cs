using System.Globalization;
using Migu.Core;

namespace Migu.Continual.Recipes;

/// <summary>
/// The training settings a run cannot start with, refused before its directory exists: a batch of
/// 0 used to surface as a stack trace from deep in the batch plan and leave a run store behind
/// that then refused the corrected command as "a different recipe".
/// </summary>
public static class TrainingChecks
{
    public static void Validate(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        TrainingSettings t = recipe.Training;
        AtLeast("training.epochs", t.Epochs, 1);
        AtLeast("training.batch", t.Batch, 1);
        AtLeast("training.grad_accum", t.GradAccum, 1);
        if (t.GradAccum > t.Batch)
        {
            throw Refuse($"training.grad_accum ({t.GradAccum}) cannot exceed training.batch ({t.Batch})");
        }

        NonNegative("training.lr", t.Lr);
        if (t.HeadLrScale is double scale && (!(scale > 0) || double.IsInfinity(scale)))
        {
            throw Refuse($"training.head_lr_scale must be a finite number > 0, got {scale}");
        }

        if (!(t.WarmupRatio >= 0 && t.WarmupRatio < 1))
        {
            throw Refuse($"training.warmup_ratio must be in [0, 1), got {t.WarmupRatio}");
        }

        NonNegative("training.weight_decay", t.WeightDecay);
        NonNegative("training.clip_norm", t.ClipNorm);
        UnitInterval("training.beta1", t.Beta1);
        UnitInterval("training.beta2", t.Beta2);
        if (!(t.Eps > 0) || double.IsInfinity(t.Eps))
        {
            throw Refuse($"training.eps must be positive, got {t.Eps}");
        }

        AtLeast("training.max_source_length", t.MaxSourceLength, 1);
        AtLeast("training.max_target_length", t.MaxTargetLength, 1);
        AtLeast("training.checkpoint_every", t.CheckpointEvery, 0);
        foreach (var (task, over) in recipe.PerTask ?? new Dictionary<string, TaskOverride>())
        {
            if (over.Epochs is int epochs)
            {
                AtLeast($"per_task.{task}.epochs", epochs, 1);
            }

            if (over.Batch is int batch)
            {
                AtLeast($"per_task.{task}.batch", batch, Math.Max(1, t.GradAccum));
            }

            if (over.Lr is double lr)
            {
                NonNegative($"per_task.{task}.lr", lr);
            }
        }
    }

    private static void AtLeast(string key, int value, int least)
    {
        if (value < least)
        {
            throw Refuse($"{key} must be at least {least}, got {value}");
        }
    }

    private static void NonNegative(string key, double value)
    {
        if (!(value >= 0) || double.IsInfinity(value))
        {
            throw Refuse($"{key} must be a finite number ≥ 0, got {value}");
        }
    }

    private static void UnitInterval(string key, double value)
    {
        if (!(value >= 0 && value < 1))
        {
            throw Refuse($"{key} must be in [0, 1), got {value}");
        }
    }

    private static MiguUserException Refuse(FormattableString message) => new(message.ToString(CultureInfo.InvariantCulture));
}
