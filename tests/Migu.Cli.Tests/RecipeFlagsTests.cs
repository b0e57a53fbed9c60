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
            "--lambda1", "0.25", "--lambda2", "0.5", "--ewc-lambda", "10", "--epochs", "2", "--lr", "0.001", "--batch", "4", "--grad-accum", "2",
            "--weight-decay", "0.01", "--schedule", "cosine", "--warmup", "0.1", "--clip", "0.5", "--dtype", "fp32", "--freeze-embeddings", "true",
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
                Epochs = 2, Lr = 0.001, Batch = 4, GradAccum = 2, WeightDecay = 0.01, Schedule = LrSchedule.Cosine, WarmupRatio = 0.1, ClipNorm = 0.5,
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
    public void A_bad_flag_value_is_one_line_naming_the_flag(string[] flag, string message)
    {
        var (code, _, stderr) = MiguProcess.Run(["run", "--dump-recipe", .. flag]);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
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
}
