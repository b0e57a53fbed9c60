using System.Globalization;
using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Continual.Tests.Recipes;

/// <summary>
/// A setting's other names on a command line: Hugging Face Trainer's aliases (<c>--learning-rate</c>)
/// and shorthands that stand for one value (<c>--bf16</c>) land in the flag's recipe key, and one
/// setting given under two names with different values is refused, naming both.
/// </summary>
public sealed class RecipeFlagNamesTests
{
    [Fact]
    public void The_hugging_face_names_of_issue_16_are_declared()
    {
        string[] names = [.. RecipeOptions.All.SelectMany(o => o.Names)];
        Assert.All(
            ["--learning-rate", "--num-train-epochs", "--gradient-accumulation-steps", "--warmup-ratio", "--weight-decay", "--max-grad-norm", "--bf16", "--seed"],
            name => Assert.Contains(name, names));

        // Not an alias where the meaning differs: our batch is global, Hugging Face's per device.
        Assert.DoesNotContain("--per-device-train-batch-size", names);
        Assert.Contains("--per-device-train-batch-size", RecipeOptions.Named("--batch")!.Help, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--learning-rate", "--lr", 0.003, "training.lr")]
    [InlineData("--num-train-epochs", "--epochs", 3, "training.epochs")]
    [InlineData("--gradient-accumulation-steps", "--grad-accum", 4, "training.grad_accum")]
    [InlineData("--warmup-ratio", "--warmup", 0.1, "training.warmup_ratio")]
    [InlineData("--max-grad-norm", "--clip", 0.5, "training.clip_norm")]
    [InlineData("--per-device-eval-batch-size", "--eval-batch", 4, "eval.batch")]
    [InlineData("--max-steps", "--steps", 7, "pretrain.steps")]
    public void A_hugging_face_alias_sets_its_flags_recipe_key(string alias, string flag, object value, string key)
    {
        RecipeOption option = RecipeOptions.Named(alias)!;
        Assert.Equal(key, RecipeOptions.Named(flag)!.Key);
        Assert.Equal(key, option.Key);

        Recipe byAlias = RecipeOptions.ApplyFlags(new Recipe(), [(alias, value)]);

        Assert.Equal(Convert.ToString(value, CultureInfo.InvariantCulture), RecipeOptions.DefaultText(option, byAlias));
        Assert.Equal(RecipeJson.Serialize(RecipeOptions.ApplyFlags(new Recipe(), [(flag, value)])), RecipeJson.Serialize(byAlias));
    }

    public static TheoryData<string> DeclaredAliases() => [.. RecipeOptions.All.SelectMany(o => o.Aliases)];

    [Theory]
    [MemberData(nameof(DeclaredAliases))]
    public void Every_declared_alias_lands_where_its_flag_does(string alias)
    {
        RecipeOption option = RecipeOptions.Named(alias)!;
        object value = option.FlagType switch
        {
            Type t when t == typeof(int?) => 3,
            Type t when t == typeof(long?) => 3L,
            Type t when t == typeof(double?) => 0.25,
            Type t when t == typeof(bool?) => !bool.Parse(RecipeOptions.DefaultText(option)),
            _ => "x",
        };

        Recipe byAlias = RecipeOptions.ApplyFlags(new Recipe(), [(alias, value)]);

        Assert.NotEqual(RecipeJson.Serialize(new Recipe()), RecipeJson.Serialize(byAlias));
        Assert.Equal(RecipeJson.Serialize(RecipeOptions.ApplyFlags(new Recipe(), [(option.Flag!, value)])), RecipeJson.Serialize(byAlias));
    }

    [Theory]
    [InlineData("--bf16", true, "--dtype", "bf16")]
    [InlineData("--bf16", false, "--dtype", "fp32")]
    [InlineData("--use-cpu", true, "--device", "cpu")]
    [InlineData("--use-cpu", false, "--device", "auto")]
    public void A_shorthand_sets_the_value_it_stands_for(string shorthand, bool on, string flag, string value)
    {
        Recipe byShorthand = RecipeOptions.ApplyFlags(new Recipe(), [(shorthand, on)]);

        Assert.Equal($"\"{value}\"", RecipeOptions.DefaultText(RecipeOptions.Named(flag)!, byShorthand));
        Assert.Equal(RecipeJson.Serialize(RecipeOptions.ApplyFlags(new Recipe(), [(flag, value)])), RecipeJson.Serialize(byShorthand));
    }

    public static TheoryData<string, object, string, object, string> Conflicts() => new()
    {
        { "--lr", 0.001, "--learning-rate", 0.002, "--lr 0.001 and --learning-rate 0.002 both set training.lr: give one of them" },
        { "--num-train-epochs", 3, "--epochs", 2, "--num-train-epochs 3 and --epochs 2 both set training.epochs: give one of them" },
        { "--dtype", "fp32", "--bf16", true, "--dtype fp32 and --bf16 both set training.dtype: give one of them" },
        { "--bf16", false, "--dtype", "bf16", "--bf16 false and --dtype bf16 both set training.dtype: give one of them" },
        { "--use-cpu", false, "--device", "cpu", "--use-cpu false and --device cpu both set device: give one of them" },
    };

    [Theory]
    [MemberData(nameof(Conflicts))]
    public void Two_names_of_one_setting_with_different_values_are_refused_naming_both(string first, object firstValue, string second, object secondValue, string message)
    {
        var refused = Assert.Throws<MiguUserException>(() => RecipeOptions.ApplyFlags(new Recipe(), [(first, firstValue), (second, secondValue)]));
        Assert.Equal(message, refused.Message);
    }

    [Fact]
    public void Two_names_that_agree_are_one_setting()
    {
        Recipe recipe = RecipeOptions.ApplyFlags(new Recipe(), [("--lr", 0.001), ("--learning-rate", 0.001), ("--dtype", "BF16"), ("--bf16", true), ("--device", "cpu"), ("--use-cpu", true)]);

        Assert.Equal(0.001, recipe.Training.Lr);
        Assert.Equal(TrainingDtype.Bf16, recipe.Training.Dtype);
        Assert.Equal("cpu", recipe.Device);
    }

    [Fact]
    public void An_unknown_name_is_a_user_error()
    {
        var refused = Assert.Throws<MiguUserException>(() => RecipeOptions.ApplyFlags(new Recipe(), [("--learning_rate", 0.1)]));
        Assert.Equal("--learning_rate is not a recipe flag", refused.Message);
    }

    [Fact]
    public void The_help_names_the_aliases_and_what_a_shorthand_stands_for()
    {
        Assert.EndsWith(" [also --learning-rate]", RecipeOptions.Named("--lr")!.HelpWithNames, StringComparison.Ordinal);
        Assert.EndsWith(" [--bf16: bf16, --bf16 false: fp32]", RecipeOptions.Named("--dtype")!.HelpWithNames, StringComparison.Ordinal);
        Assert.Equal(RecipeOptions.Named("--batch")!.Help, RecipeOptions.Named("--batch")!.HelpWithNames);
    }
}
