using Migu.Core;
using Migu.Models.Checkpoints;
using Migu.Models.Llama;
using Migu.Models.Roberta;
using Migu.Models.T5;

namespace Migu.Models.Tests;

public sealed class ModelLoaderTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private readonly string dir = Directory.CreateTempSubdirectory("migu-loader").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Checkpoint_directories_load_as_the_class_their_config_names()
    {
        using LanguageModel llama = ModelLoader.Load(Path.Combine(Fixtures, "llama", "llama_gqa"));
        using LanguageModel mlm = ModelLoader.Load(Path.Combine(Fixtures, "roberta", "mlm"));
        using LanguageModel classifier = ModelLoader.Load(Path.Combine(Fixtures, "roberta", "classifier"));
        using LanguageModel t5 = ModelLoader.Load(Path.Combine(Fixtures, "t5", "v10"));

        Assert.IsType<LlamaForCausalLM>(llama);
        Assert.IsType<RobertaForMaskedLM>(mlm);
        Assert.IsType<RobertaForSequenceClassification>(classifier);
        Assert.IsType<T5ForConditionalGeneration>(t5);
        Assert.False(llama.training); // loaded for use: eval mode
    }

    [Theory]
    [InlineData("llama-tiny", "Llama")]
    [InlineData("roberta-tiny", "RoBERTa")]
    [InlineData("t5-tiny", "T5")]
    public void Presets_build_randomly_initialised_models(string preset, string family)
    {
        using LanguageModel model = ModelLoader.Load(preset);
        Assert.Equal(family, model.Family.Name);
        Assert.Same(model.Family, ModelLoader.FamilyOf(preset));
    }

    [Fact]
    public void An_unsupported_model_type_a_directory_without_config_and_an_unknown_name_are_clear_errors()
    {
        File.WriteAllText(Path.Combine(dir, "config.json"), """{"model_type": "gpt2"}""");
        var e1 = Assert.Throws<CheckpointException>(() => ModelLoader.Load(dir));
        Assert.Contains("model_type 'gpt2' is not supported", e1.Message, StringComparison.Ordinal);

        string empty = Directory.CreateDirectory(Path.Combine(dir, "empty")).FullName;
        var e2 = Assert.Throws<CheckpointException>(() => ModelLoader.Load(empty));
        Assert.Contains("no config.json here", e2.Message, StringComparison.Ordinal);

        var e3 = Assert.Throws<MiguUserException>(() => ModelLoader.Load("no-such-preset"));
        Assert.Contains("llama-tiny", e3.Message, StringComparison.Ordinal);
    }
}
