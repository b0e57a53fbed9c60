using Migu.Continual.Distributed;
using Migu.Core;
using Migu.Core.Optim;
using Migu.Core.Runtime;
using Migu.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Training;

/// <summary>
/// The one training loop every strategy plugs into: for each optimizer step (<see cref="RunStep"/>),
/// micro-batches forward and backward (their losses weighted by size), the strategy's extra loss,
/// MIGU's masks, clipping and the optimizer step, with the schedule and a dispose scope per step.
/// Dropout is seeded per micro-batch from the run seed, so a run resumed at step k continues exactly.
/// With <paramref name="parallel"/>, this rank computes its share of each step's batch and the ranks'
/// gradients are summed before MIGU's masks and the step (<see cref="DataParallel"/>).
/// </summary>
public sealed class TaskTrainer(LanguageModel model, Device device, DataParallel? parallel = null)
{
    /// <summary>
    /// Trains <paramref name="plan"/> from step <paramref name="startStep"/> (0, or where a mid-task
    /// checkpoint left off). <paramref name="onCheckpoint"/> gets the number of steps done every
    /// plan.CheckpointEvery steps, and when <paramref name="cancel"/> fires (then this throws
    /// <see cref="OperationCanceledException"/>).
    /// </summary>
    public void Train(
        TaskTrainingPlan plan,
        IRowMaskedOptimizer optimizer,
        MiguController? migu,
        Func<Tensor?> extraLoss,
        int startStep,
        Action<StepRecord> onStep,
        Action<int>? onCheckpoint = null,
        CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (plan.GradAccum < 1 || plan.Batch < plan.GradAccum)
        {
            throw new MiguUserException($"task {plan.TaskName}: batch ({plan.Batch}) must be at least grad_accum ({plan.GradAccum}) ≥ 1");
        }

        if (parallel is not null && plan.Batch < plan.GradAccum * parallel.WorldSize)
        {
            // The batch is the whole step's over all ranks; each rank needs examples for its micro-batches.
            throw new MiguUserException(
                $"task {plan.TaskName}: batch ({plan.Batch}) must be at least ranks × grad_accum ({parallel.WorldSize} × {plan.GradAccum}); the batch is per step over all ranks");
        }

        var steps = plan.Steps();
        IReadOnlyList<Parameter> parameters = optimizer.Parameters;
        model.train();
        optimizer.ZeroGrad();
        bool stopAgreed = false; // ranks stop together, at a step all of them have finished
        for (int step = startStep; step < steps.Count; step++)
        {
            if (parallel is null ? cancel.IsCancellationRequested : stopAgreed)
            {
                onCheckpoint?.Invoke(step);
                throw new OperationCanceledException(cancel);
            }

            var (epoch, batch) = steps[step];
            double lr = plan.Lr * LearningRate.Factor(plan.Schedule, plan.WarmupRatio, step, steps.Count);
            (StepRecord record, stopAgreed) = RunStep(plan, step, steps.Count, epoch, batch, lr, optimizer, migu, extraLoss, parameters, cancel);
            onStep(record);
            int done = step + 1;
            if (plan.CheckpointEvery > 0 && done % plan.CheckpointEvery == 0 && done < steps.Count)
            {
                onCheckpoint?.Invoke(done);
            }
        }
    }

    /// <summary>
    /// One optimizer step, in the order it happens: every micro-batch's forward and backward (MIGU
    /// records their output magnitudes), the strategy's extra loss, the ranks' gradients summed, MIGU's
    /// masks, clipping, the optimizer step (honouring update mode's row masks), gradients zeroed.
    /// </summary>
    private (StepRecord Record, bool Stop) RunStep(
        TaskTrainingPlan plan, int step, int totalSteps, int epoch, int[] batch, double lr,
        IRowMaskedOptimizer optimizer, MiguController? migu, Func<Tensor?> extraLoss, IReadOnlyList<Parameter> parameters,
        CancellationToken cancel)
    {
        using var scope = NewDisposeScope();
        double taskLoss = 0;
        long tokens = batch.Sum(i => (long)plan.Data.TokensOf(i)); // the whole step's, on every rank
        using (migu?.Recording()) // MIGU ranks units by this step's training passes, nothing else
        {
            foreach (MicroBatch micro in MicroBatches(batch, plan.GradAccum))
            {
                using var microScope = NewDisposeScope();
                Tensor loss = Forward(plan, step, epoch, micro);
                taskLoss += loss.to(ScalarType.Float32).item<float>() * micro.Examples.Length / batch.Length;
                loss.mul(micro.Examples.Length / (double)batch.Length).backward(); // weighted by its share of the step's examples
            }
        }

        if (parallel is null)
        {
            CheckFinite(taskLoss, plan, step, "loss"); // with ranks: on the summed loss below, so all stop together
        }

        double extraValue = BackwardExtraLoss(plan, step, extraLoss);
        bool stop = false;
        if (parallel is not null)
        {
            (taskLoss, stop) = parallel.FinishStep(parameters, taskLoss, cancel.IsCancellationRequested);
            CheckFinite(taskLoss, plan, step, "loss");
        }

        IReadOnlyDictionary<Parameter, Tensor>? rowMasks = migu?.MaskStep(); // masked gradient rows zeroed
        ClipGradients(parameters, plan.ClipNorm);
        optimizer.LearningRate = lr;
        optimizer.Step(rowMasks); // update mode: masked rows do not move at all
        optimizer.ZeroGrad();
        return (new StepRecord(plan.TaskIndex, step, totalSteps, epoch, taskLoss, extraValue, lr, tokens), stop);
    }

    /// <summary>This rank's micro-batches of a step's batch, each with its place in the step.</summary>
    private IEnumerable<MicroBatch> MicroBatches(int[] batch, int gradAccum) =>
        parallel?.MicroBatches(batch, gradAccum) ?? Split(batch, gradAccum).Select((examples, index) => new MicroBatch(index, examples));

    /// <summary>
    /// The loss of one micro-batch. Dropout is seeded by the micro-batch's place in the step, whichever
    /// rank computes it, so it is the same with any number of ranks and after a resume.
    /// </summary>
    private Tensor Forward(TaskTrainingPlan plan, int step, int epoch, MicroBatch micro)
    {
        TorchSeed.All(Seeds.Dropout(plan.Seed, plan.TaskIndex, step, micro.Index));
        ModelBatch modelBatch = plan.Data.Collate(micro.Examples, device, new BatchDraw(plan.Seed, plan.TaskIndex, epoch));
        return model.forward(modelBatch).Loss
            ?? throw new InvalidOperationException("the model returned no loss for a batch with labels");
    }

    /// <summary>The strategy's extra term (EWC, O-LoRA): its gradient joins the task loss's; its value is returned for the log.</summary>
    private double BackwardExtraLoss(TaskTrainingPlan plan, int step, Func<Tensor?> extraLoss)
    {
        if (extraLoss() is not Tensor extra)
        {
            return 0;
        }

        double value = extra.to(ScalarType.Float32).item<float>();
        CheckFinite(value, plan, step, "the strategy's extra loss");
        (parallel is null ? extra : extra.mul(parallel.ExtraLossScale)).backward();
        return value;
    }

    private static void ClipGradients(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        if (maxNorm > 0)
        {
            nn.utils.clip_grad_norm_(parameters.Where(p => p.grad is not null), maxNorm);
        }
    }

    /// <summary>Splits a batch into <paramref name="parts"/> micro-batches of near-equal size (none empty).</summary>
    internal static IEnumerable<int[]> Split(int[] batch, int parts)
    {
        int n = Math.Min(parts, batch.Length);
        for (int i = 0; i < n; i++)
        {
            int start = i * batch.Length / n;
            int end = (i + 1) * batch.Length / n;
            yield return batch[start..end];
        }
    }

    private static void CheckFinite(double value, TaskTrainingPlan plan, int step, string what)
    {
        if (!double.IsFinite(value))
        {
            throw new MiguUserException(
                $"task {plan.TaskName}, step {step + 1}: {what} is {value}; training stopped (try a lower --lr, or check the task's data)");
        }
    }
}
