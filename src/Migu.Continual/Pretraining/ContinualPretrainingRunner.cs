using Migu.Continual.Data;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Runtime;
using Migu.Models;
using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// Continual pre-training (the DAS protocol): the model trains domain after domain on unlabeled
/// text with its family's objective (masked LM, span corruption, causal LM), with the recipe's
/// strategy (ft, lora, replay, ewc, random) and MIGU; after the last domain — and, when asked,
/// after each — every end task is fine-tuned on a fresh copy and scored. The run store is the
/// runner's: recipe.json, metrics.json (accuracy and macro-F1 of the end tasks; one timing per
/// domain, the commit point of a domain), pretraining.json (held-out loss per domain), loss.csv,
/// run.log, and checkpoints/task-NN-DOMAIN (Hugging Face layout); running again resumes.
/// </summary>
public sealed class ContinualPretrainingRunner(Recipe recipe, IReadOnlyList<LoadedTask> tasks, string outDirectory, IRunObserver? observer = null)
{
    // Hub ids become their cached snapshot directories here, so the run store records (and pins) the revision.
    private readonly Recipe recipe = recipe with { Model = HubCache.Resolve(recipe.Model), Tokenizer = recipe.Tokenizer is string t ? HubCache.Resolve(t) : null };

    public RunMetrics Run(CancellationToken cancel = default)
    {
        PretrainSettings settings = recipe.Pretrain ?? throw new MiguUserException("the recipe has no pretrain section; continual pre-training needs one");
        TrainingChecks.Validate(recipe);
        if (!ContinualMethods.Get(recipe.Method).Pretraining)
        {
            throw new MiguUserException(
                $"method {recipe.Method} is not for continual pre-training (use {string.Join(", ", ContinualMethods.All.Where(m => m.Pretraining).Select(m => m.Name))})");
        }

        // Everything that can be checked is checked before the run directory is made.
        Device device = TorchRuntime.ParseDevice(recipe.Device);
        if (recipe.Training.Dtype == TrainingDtype.Bf16)
        {
            // The domain loop, its checkpoints and the end-task fine-tuning keep fp32 weights; a bf16
            // request would be silently ignored, so it is refused instead ("auto" means fp32 here).
            throw new MiguUserException("training.dtype: continual pre-training trains in fp32; 'bf16' is not supported here (use fp32 or auto)");
        }

        IReadOnlyList<LoadedTask> endTasks = recipe.EndTasks is null ? [] : tasks;
        IReadOnlyList<PretrainDomain> domains = PretrainDomains.Resolve(settings, tasks, recipe.Seed, WholeTrainingSplit());
        if (recipe.EndTasks is { AfterEachDomain: true } && !domains.Select(d => d.Name).SequenceEqual(endTasks.Select(t => t.Name), StringComparer.OrdinalIgnoreCase))
        {
            throw new MiguUserException(
                $"end_tasks.after_each_domain needs one end task per domain, in the same order (domains: {string.Join(", ", domains.Select(d => d.Name))}; tasks: {string.Join(", ", endTasks.Select(t => t.Name))})");
        }

        ModelFamily family = ModelLoader.FamilyOf(recipe.Model);
        PretrainObjective kind = PretrainingObjectives.Resolve(settings.Objective, family, recipe.Model);
        if (recipe.EndTasks is { } endSettings)
        {
            EndTaskEvaluator.ResolveMode(endSettings.Mode, family);
        }

        bool existed = Directory.Exists(outDirectory);
        bool fresh = !File.Exists(Path.Combine(outDirectory, RunStore.RecipeFile));
        using RunStore store = RunStore.Open(outDirectory, recipe); // held until the run ends
        PretrainingRun run;
        try
        {
            run = Prepare(store, settings, domains, family, kind, endTasks, device);
        }
        catch (MiguUserException) when (fresh)
        {
            // A run that could not start leaves nothing behind, so the corrected command starts afresh.
            Discard(store.Root, existed);
            throw;
        }

        using LanguageModel model = run.Model;
        string? baseModel = ContinualMethods.Get(recipe.Method).UsesAdapters(recipe) ? BaseForAdapters(run) : null;
        using IContinualStrategy strategy = ContinualMethods.CreateStrategy(recipe, model, [.. domains.Select(d => d.Name)], baseModel);
        var context = new RunContext { Recipe = recipe, Store = store, Model = model, Strategy = strategy, Device = device, Observer = run.Observer };
        return new PretrainingSession(run, context, strategy.Adapters).Execute(cancel);
    }

    /// <summary>The run's tokenizer (written into the store), packed sequences and model (seeded with the run seed).</summary>
    private PretrainingRun Prepare(
        RunStore store, PretrainSettings settings, IReadOnlyList<PretrainDomain> domains, ModelFamily family, PretrainObjective kind, IReadOnlyList<LoadedTask> endTasks, Device device)
    {
        string? tokenizerSource = recipe.Tokenizer ?? (ModelCheckpoint.IsCheckpointDirectory(recipe.Model) ? recipe.Model : null);
        string tokenizerDirectory = Path.Combine(store.Root, PretrainingTokenizer.FolderName);
        ITextTokenizer tokenizer = PretrainingTokenizer.Prepare(tokenizerSource, kind, tokenizerDirectory);
        IPretrainingObjective objective = PretrainingObjectives.Create(kind, ObjectiveTokens.Of(tokenizer), settings);
        TextFraming framing = family.Framing(tokenizer);
        IReadOnlyList<int[]> Pack(IReadOnlyList<string> documents) => SequencePacker.Pack(documents.Select(d => framing.Encode(tokenizer, d)), settings.SeqLen);
        var train = domains.Select(d => Pack(d.Train)).ToList();
        var heldOut = domains.Select(d => Pack(d.HeldOut)).ToList();
        for (int i = 0; i < domains.Count; i++)
        {
            if (train[i].Count == 0)
            {
                throw new MiguUserException($"domain {domains[i].Name}: no text left to train on once the held-out documents are set aside");
            }
        }

        TorchSeed.All(recipe.Seed);
        return new PretrainingRun
        {
            Recipe = recipe,
            Settings = settings,
            Store = store,
            Model = CreateModel(tokenizer, settings.SeqLen, device),
            TokenizerDirectory = tokenizerDirectory,
            Objective = objective,
            Domains = domains,
            TrainSequences = train,
            HeldOutSequences = heldOut,
            EndTasks = endTasks,
            Device = device,
            Observer = observer ?? SilentObserver.Instance,
        };
    }

    /// <summary>Removes what a run that failed to start wrote: the directory, or its contents when the user made it.</summary>
    private static void Discard(string root, bool existed)
    {
        if (!existed)
        {
            Directory.Delete(root, recursive: true);
            return;
        }

        foreach (string entry in Directory.EnumerateFileSystemEntries(root))
        {
            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }
    }

    /// <summary>
    /// A task's corpus: the sentences of its whole training split as the recipe's data root holds it
    /// (before max_train, which caps the end task's labelled set, and before a dev split is carved);
    /// a task the data root does not hold (made in code) gives its loaded training sentences.
    /// </summary>
    private Func<LoadedTask, IReadOnlyList<string>> WholeTrainingSplit()
    {
        var catalog = new Lazy<TaskCatalog>(() => TaskCatalog.ForRecipe(recipe.Data, recipe.DataOptions));
        return task =>
        {
            // The sentences the end task is scored on never enter its corpus: a dev split carved
            // from the training split (data_options.dev_fraction) would otherwise be pre-trained on.
            var scored = new HashSet<string>(task.Data.Split(recipe.Eval.Split).Select(e => e.Sentence), StringComparer.Ordinal);
            IEnumerable<Example> train = task.Data.Entry is { } entry && (entry.ByPath || catalog.Value.Tasks.Contains(entry)) ? catalog.Value.Load(entry).Train : task.Data.Train;
            return [.. train.Select(e => e.Sentence).Where(sentence => !scored.Contains(sentence))];
        };
    }

    /// <summary>Adapters name their base: a checkpoint directory as it is, a preset's random weights saved once as checkpoints/initial.</summary>
    private string BaseForAdapters(PretrainingRun run) =>
        ModelCheckpoint.IsCheckpointDirectory(recipe.Model) ? Path.GetFullPath(recipe.Model) : run.InitialCheckpoint(lora: null);

    /// <summary>
    /// The model to pre-train, in training mode: a checkpoint with a language-model head (holding
    /// every id of the run's tokenizer) or a preset sized to the tokenizer; sequences must fit its positions.
    /// </summary>
    private LanguageModel CreateModel(ITextTokenizer tokenizer, int seqLen, Device device)
    {
        LanguageModel model = ModelLoader.Load(recipe.Model, tokenizer, device);
        try
        {
            if (model.IsClassifier)
            {
                throw new MiguUserException($"{recipe.Model}: a {model.Family.Name} classifier; continual pre-training needs a checkpoint with its language-model head (e.g. RobertaForMaskedLM)");
            }

            if (model.MaxPositions is long usable && seqLen > usable)
            {
                throw new MiguUserException($"{recipe.Model}: seq_len {seqLen} is longer than the model's {usable} positions");
            }

            model.train();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
