using System.CommandLine;
using System.Globalization;
using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Cli.Run;

/// <summary>
/// The flags of <c>migu run</c> (and <c>sweep</c>), one per recipe field. A flag given on the command
/// line overrides the same field of a recipe file; absent flags leave the recipe (or its defaults) alone.
/// </summary>
internal sealed class RecipeFlags
{
    private readonly Option<string?> data = new("--data") { Description = "Task data root (CL_Benchmark layout: ROOT/<Type>/<dataset>/train.json|jsonl|csv|parquet …)" };
    private readonly Option<string?> tasks = new("--tasks") { Description = "Dataset names or task paths (a folder, or a file with 'train' in its name) in training order, comma-separated" };
    private readonly Option<int?> order = new("--order") { Description = "One of the papers' task orders, 1–6" };
    private readonly Option<string?> model = new("--model") { Description = "Checkpoint directory, hub id ORG/NAME[@REV] in the local Hugging Face cache, or preset (t5-tiny, llama-tiny, t5-large, …)" };
    private readonly Option<string?> tokenizer = new("--tokenizer") { Description = "Tokenizer directory or cached hub id (default: the checkpoint's, or the embedded one for presets)" };
    private readonly Option<string?> method = new("--method") { Description = "ft, lora, replay, inclora, olora, ewc, mtl or random" };
    private readonly Option<string?> migu = new("--migu") { Description = "Turn MIGU on with threshold T in [0, 1) (or 'off')" };
    private readonly Option<string?> miguMode = new("--migu-mode") { Description = "gradient (the paper: masked gradient rows) or update (masked rows do not move)" };
    private readonly Option<string?> miguLayers = new("--migu-layers") { Description = "all, attention, ffn, q,k,v,o or re:REGEX" };
    private readonly Option<string?> miguRule = new("--migu-rule") { Description = "top_k (the paper) or quantile (the reference code)" };
    private readonly Option<bool?> miguFirstTask = new("--migu-first-task") { Description = "Apply MIGU on the first task too (default: the first task trains without it)" };
    private readonly Option<int?> loraRank = new("--lora-rank") { Description = "LoRA rank r (default 8)" };
    private readonly Option<double?> loraAlpha = new("--lora-alpha") { Description = "LoRA alpha (default 32)" };
    private readonly Option<double?> loraDropout = new("--lora-dropout") { Description = "LoRA dropout (default 0.05)" };
    private readonly Option<string?> loraTargets = new("--lora-targets") { Description = "Projections with adapters: all, attention, ffn, q,k,v,o or re:REGEX" };
    private readonly Option<double?> replayFraction = new("--replay-fraction") { Description = "Fraction of each past task replayed (default 0.02)" };
    private readonly Option<string?> replayBase = new("--replay-base") { Description = "What replay trains: ft or lora" };
    private readonly Option<double?> lambda1 = new("--lambda1") { Description = "O-LoRA orthogonality weight (default 0.5)" };
    private readonly Option<double?> lambda2 = new("--lambda2") { Description = "O-LoRA L2 weight (default 0)" };
    private readonly Option<double?> ewcLambda = new("--ewc-lambda") { Description = "EWC penalty weight (default 1000)" };
    private readonly Option<int?> epochs = new("--epochs") { Description = "Epochs per task" };
    private readonly Option<double?> lr = new("--lr") { Description = "Learning rate" };
    private readonly Option<int?> batch = new("--batch") { Description = "Examples per optimizer step" };
    private readonly Option<int?> gradAccum = new("--grad-accum") { Description = "Micro-batches per optimizer step" };
    private readonly Option<string?> schedule = new("--schedule") { Description = "constant, linear or cosine" };
    private readonly Option<double?> warmup = new("--warmup") { Description = "Warm-up fraction of each task's steps" };
    private readonly Option<double?> weightDecay = new("--weight-decay") { Description = "AdamW weight decay" };
    private readonly Option<double?> clip = new("--clip") { Description = "Gradient-norm clipping (0 = off)" };
    private readonly Option<string?> dtype = new("--dtype") { Description = "fp32, bf16 or auto" };
    private readonly Option<int?> maxSource = new("--max-source-len") { Description = "Prompt tokens at most" };
    private readonly Option<int?> maxTarget = new("--max-target-len") { Description = "Answer tokens at most" };
    private readonly Option<int?> checkpointEvery = new("--checkpoint-every") { Description = "Mid-task checkpoint every N steps (0 = between tasks only)" };
    private readonly Option<string?> keepCheckpoints = new("--keep-checkpoints") { Description = "all or last" };
    private readonly Option<bool?> freezeEmbeddings = new("--freeze-embeddings") { Description = "Keep token embeddings fixed" };
    private readonly Option<int?> maxTrain = new("--max-train") { Description = "Training examples per task at most (stratified, seeded)" };
    private readonly Option<int?> maxTest = new("--max-test") { Description = "Scored examples per task at most (stratified, seeded)" };
    private readonly Option<double?> devFraction = new("--dev-fraction") { Description = "Carve this fraction of train off as a dev split" };
    private readonly Option<string?> instructions = new("--instructions") { Description = "JSON file: task type or dataset → instruction" };
    private readonly Option<string?> textField = new("--text-field") { Description = "Key or column holding the text (default: sentence, or text where there is no sentence)" };
    private readonly Option<string?> labelField = new("--label-field") { Description = "Key or column holding the label (default: label)" };
    private readonly Option<string?> evalMode = new("--eval") { Description = "generate (exact match) or rank (label likelihood)" };
    private readonly Option<int?> evalBatch = new("--eval-batch") { Description = "Sequences per evaluation batch" };
    private readonly Option<bool?> baseline = new("--baseline") { Description = "Score the untrained model first (needed for FWT; default true)" };
    private readonly Option<long?> seed = new("--seed") { Description = "Run seed" };
    private readonly Option<string?> device = new("--device") { Description = "cpu, cuda, cuda:N or auto" };

    public IEnumerable<Option> All =>
    [
        data, tasks, order, model, tokenizer, method, migu, miguMode, miguLayers, miguRule, miguFirstTask,
        loraRank, loraAlpha, loraDropout, loraTargets, replayFraction, replayBase, lambda1, lambda2, ewcLambda,
        epochs, lr, batch, gradAccum, schedule, warmup, weightDecay, clip, dtype, maxSource, maxTarget, checkpointEvery,
        keepCheckpoints, freezeEmbeddings, maxTrain, maxTest, devFraction, instructions, textField, labelField, evalMode, evalBatch, baseline, seed, device,
    ];

    /// <summary>Adds the flags to <paramref name="command"/>, leaving out those it defines itself.</summary>
    public void AddTo(Command command, IReadOnlyCollection<string>? except = null)
    {
        foreach (Option o in All.Where(o => except is null || !except.Contains(o.Name)))
        {
            command.Options.Add(o);
        }
    }

    /// <summary>The recipe the given flags make of <paramref name="recipe"/>.</summary>
    public Recipe Apply(ParseResult parse, Recipe recipe)
    {
        Recipe r = recipe;
        if (parse.GetValue(data) is string d)
        {
            r = r with { Data = d };
        }

        if (parse.GetValue(tasks) is string t)
        {
            r = r with { Tasks = [.. t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)], Order = null };
        }

        if (parse.GetValue(order) is int o)
        {
            r = r with { Order = o, Tasks = null };
        }

        r = r with
        {
            Model = parse.GetValue(model) ?? r.Model,
            Tokenizer = parse.GetValue(tokenizer) ?? r.Tokenizer,
            Method = parse.GetValue(method) is string m ? ParseEnum<ContinualMethod>(m, "--method") : r.Method,
            Seed = parse.GetValue(seed) ?? r.Seed,
            Device = parse.GetValue(device) ?? r.Device,
        };
        r = r with { Migu = ApplyMigu(parse, r.Migu) };
        r = r with
        {
            Lora = r.Lora with
            {
                Rank = parse.GetValue(loraRank) ?? r.Lora.Rank,
                Alpha = parse.GetValue(loraAlpha) ?? r.Lora.Alpha,
                Dropout = parse.GetValue(loraDropout) ?? r.Lora.Dropout,
                Targets = parse.GetValue(loraTargets) ?? r.Lora.Targets,
            },
            Replay = r.Replay with
            {
                Fraction = parse.GetValue(replayFraction) ?? r.Replay.Fraction,
                Base = parse.GetValue(replayBase) is string b ? ParseEnum<ContinualMethod>(b, "--replay-base") : r.Replay.Base,
            },
            Olora = r.Olora with { Lambda1 = parse.GetValue(lambda1) ?? r.Olora.Lambda1, Lambda2 = parse.GetValue(lambda2) ?? r.Olora.Lambda2 },
            Ewc = r.Ewc with { Lambda = parse.GetValue(ewcLambda) ?? r.Ewc.Lambda },
            Training = r.Training with
            {
                Epochs = parse.GetValue(epochs) ?? r.Training.Epochs,
                Lr = parse.GetValue(lr) ?? r.Training.Lr,
                Batch = parse.GetValue(batch) ?? r.Training.Batch,
                GradAccum = parse.GetValue(gradAccum) ?? r.Training.GradAccum,
                Schedule = parse.GetValue(schedule) is string s ? ParseEnum<LrSchedule>(s, "--schedule") : r.Training.Schedule,
                WarmupRatio = parse.GetValue(warmup) ?? r.Training.WarmupRatio,
                WeightDecay = parse.GetValue(weightDecay) ?? r.Training.WeightDecay,
                ClipNorm = parse.GetValue(clip) ?? r.Training.ClipNorm,
                Dtype = parse.GetValue(dtype) ?? r.Training.Dtype,
                MaxSourceLength = parse.GetValue(maxSource) ?? r.Training.MaxSourceLength,
                MaxTargetLength = parse.GetValue(maxTarget) ?? r.Training.MaxTargetLength,
                CheckpointEvery = parse.GetValue(checkpointEvery) ?? r.Training.CheckpointEvery,
                KeepCheckpoints = parse.GetValue(keepCheckpoints) ?? r.Training.KeepCheckpoints,
                FreezeEmbeddings = parse.GetValue(freezeEmbeddings) ?? r.Training.FreezeEmbeddings,
            },
            DataOptions = r.DataOptions with
            {
                MaxTrain = parse.GetValue(maxTrain) ?? r.DataOptions.MaxTrain,
                MaxTest = parse.GetValue(maxTest) ?? r.DataOptions.MaxTest,
                DevFraction = parse.GetValue(devFraction) ?? r.DataOptions.DevFraction,
                Instructions = parse.GetValue(instructions) ?? r.DataOptions.Instructions,
                TextField = parse.GetValue(textField) ?? r.DataOptions.TextField,
                LabelField = parse.GetValue(labelField) ?? r.DataOptions.LabelField,
            },
            Eval = r.Eval with
            {
                Mode = parse.GetValue(evalMode) is string e ? ParseEnum<EvalMode>(e, "--eval") : r.Eval.Mode,
                Batch = parse.GetValue(evalBatch) ?? r.Eval.Batch,
                Baseline = parse.GetValue(baseline) ?? r.Eval.Baseline,
            },
        };
        return r;
    }

    private MiguOptions? ApplyMigu(ParseResult parse, MiguOptions? current)
    {
        MiguOptions? m = current;
        if (parse.GetValue(migu) is string text)
        {
            if (text.Equals("off", StringComparison.OrdinalIgnoreCase) || text.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double threshold))
            {
                throw new MiguUserException($"--migu takes a threshold in [0, 1) or 'off', got '{text}'");
            }

            m = (m ?? new MiguOptions()) with { Threshold = threshold };
        }

        bool tuned = parse.GetValue(miguMode) is not null || parse.GetValue(miguLayers) is not null
            || parse.GetValue(miguRule) is not null || parse.GetValue(miguFirstTask) is not null;
        if (m is null)
        {
            if (tuned)
            {
                throw new MiguUserException("--migu-mode, --migu-layers, --migu-rule and --migu-first-task need MIGU on: add --migu T (e.g. --migu 0.7)");
            }

            return null;
        }

        m = m with
        {
            Mode = parse.GetValue(miguMode) is string mode ? ParseEnum<MiguMode>(mode, "--migu-mode") : m.Mode,
            Layers = parse.GetValue(miguLayers) ?? m.Layers,
            Rule = parse.GetValue(miguRule) is string rule ? ParseEnum<ThresholdRule>(rule.Replace("-", "_", StringComparison.Ordinal), "--migu-rule") : m.Rule,
            SkipFirstTask = parse.GetValue(miguFirstTask) is bool first ? !first : m.SkipFirstTask,
        };
        m.Validate();
        return m;
    }

    /// <summary>An enum from its snake_case (or any-case) name; an unknown name lists the known ones.</summary>
    internal static T ParseEnum<T>(string text, string flag)
        where T : struct, Enum
    {
        string key = text.Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal);
        if (Enum.TryParse(key, ignoreCase: true, out T value) && Enum.IsDefined(value) && !int.TryParse(text, out _))
        {
            return value;
        }

        string known = string.Join(", ", Enum.GetNames<T>().Select(n => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(n)));
        throw new MiguUserException($"{flag}: '{text}' is not one of {known}");
    }
}
