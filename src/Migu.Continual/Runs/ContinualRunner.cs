using Migu.Continual.Distributed;
using Migu.Continual.Forgetting;
using Migu.Continual.Pretraining;
using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Distributed;
using Migu.Core.Runtime;
using Migu.Models;
using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Continual.Runs;

/// <summary>
/// Runs a recipe over its tasks: trains each task with the recipe's method (and MIGU), scores the
/// model on every task after each one (and before the first, for forward transfer), and keeps the
/// run store up to date so that running again on the same directory resumes where it stopped — at
/// the last finished task, or at a mid-task checkpoint — and ends with the same metrics
/// (<see cref="TaskRun"/> is the lifecycle). A recipe with a <c>pretrain</c> section is handed to
/// <see cref="ContinualPretrainingRunner"/>.
/// A process started by a launcher (mpirun, srun, <c>migu run --nproc</c>, torchrun) is one rank of a
/// data-parallel run (<see cref="DataParallel"/>): each rank trains on its share of every batch and
/// scores its share of the prompts, and rank 0 alone writes the store and reports progress.
/// <paramref name="processGroup"/> gives the group directly instead (tests, embedding hosts).
/// </summary>
public sealed class ContinualRunner(
    Recipe recipe, IReadOnlyList<LoadedTask> tasks, string outDirectory, IRunObserver? observer = null, IProcessGroup? processGroup = null)
{
    // Hub ids become their cached snapshot directories here, so the run store records (and pins) the revision.
    private readonly Recipe recipe = recipe with { Model = HubCache.Resolve(recipe.Model), Tokenizer = recipe.Tokenizer is string t ? HubCache.Resolve(t) : null };

    /// <summary>Tests only: sees every phase's optimizer steps (fine-tuning runs).</summary>
    internal OptimizerWatch? WatchOptimizer { get; init; }

    public RunMetrics Run(CancellationToken cancel = default)
    {
        TrainingChecks.Validate(recipe); // before any run directory exists
        _ = ContinualMethods.Get(recipe.Method); // a recipe made in code may name no registered method
        if (recipe.Pretrain is not null)
        {
            if (recipe.Training.HeadLrScale is not null)
            {
                throw new MiguUserException("training.head_lr_scale applies to an encoder classifier's head; continual pre-training trains none (remove it)");
            }

            // Continual pre-training has its own data (domains of text); the tasks are its end tasks.
            if (processGroup is not null || LaunchInfo.FromEnvironment() is not null)
            {
                throw new MiguUserException("continual pre-training runs in one process: run this recipe without --nproc or a launcher");
            }

            return new ContinualPretrainingRunner(recipe, tasks, outDirectory, observer).Run(cancel);
        }

        if (tasks.Count == 0)
        {
            throw new MiguUserException("the run has no tasks");
        }

        LaunchInfo? launch = processGroup is null ? LaunchInfo.FromEnvironment() : null;
        Device device = TorchRuntime.ParseDevice(launch is null ? recipe.Device : ProcessGroups.DeviceFor(launch, recipe.Device, VisibleGpus()));
        using IProcessGroup? joined = launch is null ? null : ProcessGroups.Create(launch, device);
        DataParallel? parallel = (processGroup ?? joined) is { } group ? new DataParallel(group) : null;
        try
        {
            return Run(device, parallel, cancel);
        }
        catch (Exception e) when (parallel is not null && e is not OperationCanceledException)
        {
            parallel.Group.MarkFailed(); // its peers may be waiting in a collective: end the job, not just this rank
            throw;
        }
    }

    private RunMetrics Run(Device device, DataParallel? parallel, CancellationToken cancel)
    {
        bool main = parallel?.IsMain ?? true;
        if (recipe.Forgetting is { } general)
        {
            if (parallel is not null)
            {
                throw new MiguUserException("the forgetting probe runs in one process: run this recipe without --nproc or a launcher");
            }

            if (!ModelLoader.FamilyOf(recipe.Model).Generates)
            {
                throw new MiguUserException("the forgetting probe scores a generative model's general ability; an encoder classifier has none to lose (remove the forgetting section)");
            }

            ForgettingProbe.CheckFiles(general); // before the run directory exists
        }

        IRunObserver shown = main ? observer ?? SilentObserver.Instance : SilentObserver.Instance;
        TorchSeed.All(recipe.Seed);
        var (model, tokenizer) = TaskSeams.LoadModel(recipe, tasks, device);
        using LanguageModel owned = model;
        ScalarType weights = TrainingPrecision.Resolve(recipe.Training.Dtype, device);
        if (weights != ScalarType.Float32)
        {
            model.to(weights);
        }

        if (recipe.Training.HeadLrScale is not null && !model.IsClassifier)
        {
            // A generative model's head is pretrained (often tied to the embedding): no fresh head to speed up.
            throw new MiguUserException($"training.head_lr_scale applies to an encoder classifier's head; {model.Family.Name} models generate their answers (remove it)");
        }

        parallel?.BroadcastFromMain(model.parameters()); // every rank starts from rank 0's weights
        ITaskEncoding encoding;
        ITaskEvaluator evaluator;
        PromptTasks? prompts = null;
        if (model.Family.Generates)
        {
            prompts = PromptTasks.Create(recipe, model, tokenizer, tasks, device, shown);
            (encoding, evaluator) = (prompts, prompts);
        }
        else
        {
            ClassificationTasks classes = ClassificationTasks.Create(recipe, model, tokenizer, tasks, device, shown);
            (encoding, evaluator) = (classes, classes);
        }

        // Opened once the model and its labels are known to work, so a run that cannot start writes nothing; rank 0 holds the directory until the run ends.
        using RunStore store = main ? RunStore.Open(outDirectory, recipe) : RunStore.OpenForReading(outDirectory);
        ForgettingProbe? forgetting = recipe.Forgetting is null || prompts is null
            ? null
            : new ForgettingProbe(recipe, model, tokenizer, prompts.Encoder, tasks, device, store.Root, shown);
        string? baseModel = ContinualMethods.Get(recipe.Method).UsesAdapters(recipe) ? SaveBase(store, model) : null;
        using IContinualStrategy strategy = ContinualMethods.CreateStrategy(recipe, model, [.. tasks.Select(t => t.Name)], baseModel);
        var context = new RunContext { Recipe = recipe, Store = store, Model = model, Strategy = strategy, Device = device, Weights = weights, Parallel = parallel, Observer = shown, WatchOptimizer = WatchOptimizer };
        return new FineTuningSession(context, tasks, encoding, evaluator, forgetting).Execute(cancel);
    }

    private static int VisibleGpus() => cuda.is_available() ? cuda.device_count() : 0;

    /// <summary>
    /// Adapters need their base: a checkpoint directory is named as it is; a preset's random weights
    /// are saved once, with the tokenizer, as checkpoints/base (so the adapters load in PEFT too).
    /// </summary>
    private string SaveBase(RunStore store, LanguageModel model)
    {
        if (ModelCheckpoint.IsCheckpointDirectory(recipe.Model))
        {
            return Path.GetFullPath(recipe.Model);
        }

        string dir = Path.Combine(store.CheckpointsDirectory, "base");
        if (store.Writes && !ModelCheckpoint.IsCheckpointDirectory(dir))
        {
            RunStore.WriteDirectory(dir, temp =>
            {
                ModelCheckpoint.Save(model, temp);
                if (recipe.Tokenizer is null)
                {
                    EmbeddedTokenizer.WriteCompactFiles(temp);
                }
            });
        }

        return dir;
    }
}
