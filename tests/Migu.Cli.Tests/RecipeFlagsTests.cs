using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Cli.Tests;

/// <summary>The flags made from the settings' declarations land where the recipe says, and say what they refuse.</summary>
public sealed class RecipeFlagsTests
{
    [Fact]
    public void Every_run_flag_sets_its_recipe_key()
    {
        var (code, stdout, stderr) = MiguProcess.Run(
            "run", "--dump-recipe", "--data", "d", "--tasks", "a, b", "--model", "llama-tiny", "--tokenizer", "tok", "--method", "Replay",
            "--migu", "0.6", "--migu-mode", "update", "--migu-layers", "ffn", "--migu-rule", "quantile", "--migu-first-task", "true",
            "--lora-rank", "4", "--lora-alpha", "16", "--lora-dropout", "0.1", "--lora-targets", "q,v", "--replay-fraction", "0.1", "--replay-base", "lora",
            "--lambda1", "0.25", "--lambda2", "0.5", "--ewc-lambda", "10", "--epochs", "2", "--lr", "0.001", "--head-lr-scale", "20", "--batch", "4", "--grad-accum", "2",
            "--weight-decay", "0.01", "--adam-beta1", "0.8", "--adam-beta2", "0.99", "--adam-epsilon", "1e-6", "--schedule", "cosine", "--warmup", "0.1", "--clip", "0.5", "--dtype", "fp32", "--freeze-embeddings", "true",
            "--max-source-len", "128", "--max-target-len", "8", "--checkpoint-every", "10", "--keep-checkpoints", "last", "--max-train", "100",
            "--max-test", "20", "--dev-fraction", "0.1", "--instructions", "i.json", "--eval", "rank", "--eval-batch", "16", "--baseline", "false",
            "--seed", "7", "--device", "auto");
        var expected = new Recipe
        {
            Data = "d",
            Tasks = ["a", "b"],
            Model = "llama-tiny",
            Tokenizer = "tok",
            Method = "replay",
            Migu = new MiguOptions { Threshold = 0.6, Mode = MiguMode.Update, Layers = "ffn", Rule = ThresholdRule.Quantile, SkipFirstTask = false },
            Lora = new LoraSettings { Rank = 4, Alpha = 16, Dropout = 0.1, Targets = "q,v" },
            Replay = new ReplaySettings { Fraction = 0.1, Base = "lora" },
            Olora = new OLoraSettings { Lambda1 = 0.25, Lambda2 = 0.5 },
            Ewc = new EwcSettings { Lambda = 10 },
            Training = new TrainingSettings
            {
                Epochs = 2, Lr = 0.001, HeadLrScale = 20, Batch = 4, GradAccum = 2, WeightDecay = 0.01, Beta1 = 0.8, Beta2 = 0.99, Eps = 1e-6, Schedule = LrSchedule.Cosine, WarmupRatio = 0.1, ClipNorm = 0.5,
                Dtype = TrainingDtype.Fp32, FreezeEmbeddings = true, MaxSourceLength = 128, MaxTargetLength = 8, CheckpointEvery = 10, KeepCheckpoints = CheckpointRetention.Last,
            },
            DataOptions = new DataSettings { MaxTrain = 100, MaxTest = 20, DevFraction = 0.1, Instructions = "i.json" },
            Eval = new EvalSettings { Mode = EvalMode.Rank, Batch = 16, Baseline = false },
            Seed = 7,
            Device = "auto",
        };

        Assert.True(code == 0, stderr);
        Assert.Equal(RecipeJson.Serialize(expected), stdout.TrimEnd('\n'));
    }

    [Theory]
    [InlineData(new[] { "--method", "sgd" }, "--method: 'sgd' is not one of ft, lora, replay, inclora, olora, ewc, mtl, random")]
    [InlineData(new[] { "--dtype", "fp16" }, "--dtype: 'fp16' is not one of auto, fp32, bf16")]
    [InlineData(new[] { "--migu-mode", "update" }, "need MIGU on: add --migu T (e.g. --migu 0.7)")]
    [InlineData(new[] { "--migu", "most" }, "--migu takes T or 'off', got 'most'")]
    [InlineData(new[] { "--migu", "1.5" }, "MIGU threshold T must lie in [0, 1), got 1.5")]
    [InlineData(new[] { "--lr", "0.001", "--learning-rate", "0.002" }, "--lr 0.001 and --learning-rate 0.002 both set training.lr: give one of them")]
    [InlineData(new[] { "--bf16", "--dtype", "fp32" }, "--dtype fp32 and --bf16 both set training.dtype: give one of them")]
    [InlineData(new[] { "--learning_rate", "0.1" }, "'--learning_rate' is not a flag: flags are written with dashes (--learning-rate)")]
    [InlineData(new[] { "--per_device_train_batch_size", "4" }, "'--per_device_train_batch_size' is not a flag; --batch is the nearest, but differs: Examples per optimizer step over all ranks")]
    [InlineData(new[] { "--per-device-train-batch-size", "4" }, "'--per-device-train-batch-size' is not a flag; --batch is the nearest, but differs: Examples per optimizer step over all ranks")]
    [InlineData(new[] { "--lr-scheduler-type", "linear" }, "'--lr-scheduler-type' is not a flag; --schedule is the nearest, but differs: Learning-rate schedule within a task")]
    public void A_bad_flag_value_is_one_line_naming_the_flag(string[] flag, string message)
    {
        var (code, _, stderr) = MiguProcess.Run(["run", "--dump-recipe", .. flag]);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Hugging_face_names_make_the_same_recipe_as_ours()
    {
        var ours = MiguProcess.Run(
            "run", "--dump-recipe", "--lr", "0.003", "--epochs", "3", "--grad-accum", "2", "--warmup", "0.1", "--clip", "0.5", "--dtype", "bf16",
            "--eval-batch", "4", "--device", "auto");
        var theirs = MiguProcess.Run(
            "run", "--dump-recipe", "--learning-rate", "0.003", "--num-train-epochs", "3", "--gradient-accumulation-steps", "2", "--warmup-ratio", "0.1",
            "--max-grad-norm", "0.5", "--bf16", "--per-device-eval-batch-size", "4", "--use-cpu", "false");

        Assert.True(ours.ExitCode == 0, ours.Stderr);
        Assert.True(theirs.ExitCode == 0, theirs.Stderr);
        Assert.Equal(ours.Stdout, theirs.Stdout);
        Assert.NotEqual(RecipeJson.Serialize(new Recipe()), ours.Stdout.TrimEnd('\n'));
    }

    [Fact]
    public void The_help_lists_the_hugging_face_names_and_says_where_a_meaning_differs()
    {
        var (code, run, _) = MiguProcess.Run("run", "--help");
        Assert.Equal(0, code);
        Assert.Contains("[also --learning-rate]", Line(run, "--lr <lr>"), StringComparison.Ordinal);
        Assert.Contains("[also --max-grad-norm]", Line(run, "--clip <clip>"), StringComparison.Ordinal);
        Assert.Contains("[--bf16: bf16, --bf16 false: fp32]", Line(run, "--dtype <dtype>"), StringComparison.Ordinal);
        Assert.Contains("not Hugging Face's --per-device-train-batch-size", Line(run, "--batch <batch>"), StringComparison.Ordinal);
        Assert.Contains("spares biases", Line(run, "--weight-decay <weight-decay>"), StringComparison.Ordinal);
        Assert.DoesNotContain("\n  --learning-rate", run, StringComparison.Ordinal); // an alias has no line of its own

        var (_, pretrain, _) = MiguProcess.Run("pretrain", "--help");
        Assert.Contains("[also --learning-rate]", Line(pretrain, "--lr <lr>"), StringComparison.Ordinal);
        Assert.Contains("[also --max-steps]", Line(pretrain, "--steps <steps>"), StringComparison.Ordinal);
        Assert.Contains("[--use-cpu: cpu, --use-cpu false: auto]", Line(pretrain, "--device <device>"), StringComparison.Ordinal);

        var (_, eval, _) = MiguProcess.Run("eval", "--help");
        Assert.Contains("[also --per-device-eval-batch-size]", Line(eval, "--eval-batch <eval-batch>"), StringComparison.Ordinal);
        Assert.DoesNotContain("--learning-rate", eval, StringComparison.Ordinal); // eval trains nothing
    }

    [Theory]
    [InlineData(OptionScopes.Pretrain, new[] { "--learning-rate", "0.002", "--warmup-ratio", "0.2", "--max-steps", "9", "--use-cpu", "false" }, "training.lr=0.002 training.warmup_ratio=0.2 pretrain.steps=9 device=\"auto\"")]
    [InlineData(OptionScopes.Pretrain, new string[0], "training.lr=0.0005 training.warmup_ratio=0.05 pretrain.steps=null device=\"cpu\"")] // the verb's defaults stay
    [InlineData(OptionScopes.Eval, new[] { "--per-device-eval-batch-size", "5", "--use-cpu" }, "eval.batch=5 device=\"cpu\"")]
    [InlineData(OptionScopes.Run, new[] { "--num-train-epochs", "4", "--gradient-accumulation-steps", "2", "--max-grad-norm", "0", "--bf16", "false" }, "training.epochs=4 training.grad_accum=2 training.clip_norm=0 training.dtype=\"fp32\"")]
    public void The_hugging_face_names_work_in_each_commands_flags(OptionScopes scope, string[] args, string expected)
    {
        Recipe defaults = scope == OptionScopes.Pretrain ? Commands.PretrainCommand.Defaults : new Recipe();
        var flags = new Run.RecipeFlags(scope, scope == OptionScopes.Run ? null : defaults);
        var command = new System.CommandLine.Command("probe");
        flags.AddTo(command);
        System.CommandLine.ParseResult parse = command.Parse(args);
        Assert.Empty(parse.Errors);

        Recipe recipe = flags.Apply(parse, defaults);

        string[] keys = [.. expected.Split(' ').Select(kv => kv.Split('=')[0])];
        Assert.Equal(expected, string.Join(' ', keys.Select(k => $"{k}={RecipeOptions.DefaultText(RecipeOptions.All.Single(o => o.Key == k), recipe)}")));
    }

    [Fact]
    public void An_alias_of_a_flag_the_command_lacks_is_unknown_there()
    {
        var command = new System.CommandLine.Command("probe");
        new Run.RecipeFlags(OptionScopes.Eval, new Recipe()).AddTo(command);
        Assert.NotEmpty(command.Parse(["--learning-rate", "0.1"]).Errors); // eval trains nothing
    }

    [Fact]
    public void A_sweep_grid_key_may_be_an_alias_or_a_shorthand_but_one_setting_takes_one_key()
    {
        Recipe point = Commands.SweepCommand.ApplyPoint(new Recipe(), [new("learning-rate", "0.003"), new("bf16", "false"), new("max-grad-norm", "2")]);
        Assert.Equal((0.003, TrainingDtype.Fp32, 2.0), (point.Training.Lr, point.Training.Dtype, point.Training.ClipNorm));

        Assert.Equal(2, Commands.SweepCommand.ParseGrid(["learning-rate=1e-4,3e-4", "bf16=true,false"]).Count);
        var twice = Assert.Throws<MiguUserException>(() => Commands.SweepCommand.ParseGrid(["lr=1e-4", "learning-rate=3e-4"]));
        Assert.Equal("--grid: lr and learning-rate both set training.lr; give one grid key per setting", twice.Message);
        var shorthand = Assert.Throws<MiguUserException>(() => Commands.SweepCommand.ParseGrid(["dtype=fp32", "bf16=true"]));
        Assert.Equal("--grid: dtype and bf16 both set training.dtype; give one grid key per setting", shorthand.Message);
    }

    [Fact]
    public void Eval_and_pretrain_show_their_own_defaults_from_a_recipe()
    {
        var (code, stdout, _) = MiguProcess.Run("pretrain", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--lr", stdout, StringComparison.Ordinal);
        Assert.Contains("0.0005", stdout, StringComparison.Ordinal); // the verb's own learning rate, from PretrainCommand.Defaults
        Assert.DoesNotContain("--method", stdout, StringComparison.Ordinal);

        var (evalCode, evalHelp, _) = MiguProcess.Run("eval", "--help");
        Assert.Equal(0, evalCode);
        Assert.Contains("--split", evalHelp, StringComparison.Ordinal);
        Assert.Contains("generate", evalHelp, StringComparison.Ordinal);
    }

    /// <summary>The help line that starts with <paramref name="usage"/>.</summary>
    private static string Line(string help, string usage) =>
        help.Split('\n').SingleOrDefault(l => l.TrimStart().StartsWith(usage, StringComparison.Ordinal)) ?? throw new Xunit.Sdk.XunitException($"no help line for {usage}:\n{help}");
}
