using System.Text.Json;
using Migu.Core;
using Migu.Models.Bert;
using Migu.Models.Tests.Roberta;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Bert;

/// <summary>
/// Fixtures/bert, written by tools/parity_bert.py: an independent plain-PyTorch BERT on a tiny
/// random config, four checkpoints and what it computed on a padded batch of two. fp32 on the
/// CPU, eval mode; within 1e-4 relative (+ 1e-5 absolute).
/// </summary>
public class BertParityTests
{
    internal static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "bert");

    private static readonly JsonElement Golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "bert_parity.json"))).RootElement.Clone();

    [Fact]
    public void Encoder_last_hidden_state_pooler_and_mean_pooling_match_the_reference_with_token_types_and_padding()
    {
        using var model = BertModel.FromPretrained(Path.Combine(Root, "encoder"));
        Assert.True(model.HasPooler);
        using var scope = NewDisposeScope();
        JsonElement expected = Golden.GetProperty("encoder");
        Tensor mask = Ints("attention_mask");
        Tensor hidden = model.Encode(Ints("input_ids"), mask, Ints("token_type_ids"));

        Assert.Equal(RobertaFixtures.Doubles(expected.GetProperty("last_hidden_state_shape")).Select(v => (long)v), hidden.shape);
        RobertaFixtures.AssertClose(RobertaFixtures.Doubles(expected.GetProperty("last_hidden_state")), RobertaFixtures.Values(hidden), "last hidden state");
        RobertaFixtures.AssertClose(RobertaFixtures.Doubles(expected.GetProperty("pooler_output")), RobertaFixtures.Values(model.Pool(hidden)), "pooler output");
        RobertaFixtures.AssertClose(RobertaFixtures.Doubles(expected.GetProperty("mean_pooled")), RobertaFixtures.Values(BertModel.MeanPool(hidden, mask)), "mean pooled");
    }

    [Theory]
    [InlineData("classifier")]
    [InlineData("classifier_mean")]
    public void Classifier_logits_loss_gradients_and_magnitudes_match_the_reference(string name)
    {
        using var model = BertForSequenceClassification.FromPretrained(Path.Combine(Root, name));
        Assert.Equal(name == "classifier" ? ClassifierPooling.Pooler : ClassifierPooling.Mean, model.Config.ClassifierPooling);
        AssertHead(model, Golden.GetProperty(name), name);
    }

    [Fact]
    public void Masked_lm_logits_loss_gradients_and_magnitudes_match_the_reference_including_the_tied_embedding()
    {
        using var model = BertForMaskedLM.FromPretrained(Path.Combine(Root, "mlm"));
        JsonElement expected = Golden.GetProperty("mlm");
        AssertHead(model, expected, "mlm");
    }

    internal static Tensor Ints(string key) => Ints(Golden.GetProperty(key));

    internal static ModelBatch Batch(JsonElement record) => new()
    {
        InputIds = Ints("input_ids"),
        AttentionMask = Ints("attention_mask"),
        Labels = Ints(record.GetProperty("labels")),
    };

    private static void AssertHead(LanguageModel model, JsonElement expected, string what)
    {
        model.eval();
        using var scope = NewDisposeScope();
        Dictionary<string, Projection> projections = RobertaFixtures.RecordMagnitudes(model);
        ModelOutput output = model.call(Batch(expected));
        RobertaFixtures.AssertClose(RobertaFixtures.Doubles(expected.GetProperty("logits")), RobertaFixtures.Values(output.Logits), $"{what} logits");
        RobertaFixtures.AssertClose(expected.GetProperty("loss").GetDouble(), output.Loss!.item<float>(), $"{what} loss");

        JsonElement magnitudes = expected.GetProperty("magnitudes");
        Assert.Equal(magnitudes.EnumerateObject().Select(p => p.Name).Order(), projections.Keys.Order());
        foreach (var (name, p) in projections)
        {
            RobertaFixtures.AssertClose(RobertaFixtures.Doubles(magnitudes.GetProperty(name)), RobertaFixtures.Values(p.MagnitudeAccumulator!), $"{what} {name} magnitudes");
            p.MagnitudeAccumulator!.Dispose();
            p.MagnitudeAccumulator = null;
        }

        output.Loss.backward();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        foreach (JsonProperty g in expected.GetProperty("grads").EnumerateObject())
        {
            Tensor? grad = parameters[g.Name].grad;
            Assert.NotNull(grad);
            RobertaFixtures.AssertClose(RobertaFixtures.Doubles(g.Value), RobertaFixtures.Values(grad), $"{what} gradient of {g.Name}");
        }
    }

    private static Tensor Ints(JsonElement rows)
    {
        if (rows[0].ValueKind != JsonValueKind.Array)
        {
            return tensor(rows.EnumerateArray().Select(e => e.GetInt64()).ToArray(), ScalarType.Int64);
        }

        long[][] values = [.. rows.EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt64()).ToArray())];
        return tensor(values.SelectMany(v => v).ToArray(), ScalarType.Int64).reshape(values.Length, values[0].Length);
    }
}
