using System.Text.Json;
using Migu.Core;
using Migu.Models.Roberta;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Roberta;

/// <summary>
/// The C# models against transformers on the fixture checkpoints: a padded batch of two, fp32 on
/// the CPU, eval mode. Logits, loss, gradients and per-projection magnitudes within 1e-4 relative
/// (+ 1e-5 absolute).
/// </summary>
public class RobertaParityTests
{
    private static readonly JsonElement Mlm = RobertaFixtures.Parity.GetProperty("mlm");
    private static readonly JsonElement Classifier = RobertaFixtures.Parity.GetProperty("classifier");

    [Fact]
    public void Masked_lm_logits_and_loss_match_transformers_with_padding()
    {
        using var model = RobertaForMaskedLM.FromPretrained(RobertaFixtures.MaskedLmDirectory);
        model.eval();
        using var scope = NewDisposeScope();
        ModelOutput output = model.call(RobertaFixtures.Batch(Mlm));

        Assert.Equal(RobertaFixtures.Doubles(Mlm.GetProperty("logits_shape")).Select(v => (long)v), output.Logits.shape);
        RobertaFixtures.AssertClose(RobertaFixtures.Doubles(Mlm.GetProperty("logits")), RobertaFixtures.Values(output.Logits), "MLM logits");
        RobertaFixtures.AssertClose(Mlm.GetProperty("loss").GetDouble(), output.Loss!.item<float>(), "MLM loss");
    }

    [Fact]
    public void Masked_lm_gradients_match_transformers_including_the_tied_embedding()
    {
        using var model = RobertaForMaskedLM.FromPretrained(RobertaFixtures.MaskedLmDirectory);
        model.eval();
        AssertGradients(model, Mlm);
    }

    [Fact]
    public void Masked_lm_magnitudes_match_transformers_hooks_on_every_linear()
    {
        using var model = RobertaForMaskedLM.FromPretrained(RobertaFixtures.MaskedLmDirectory);
        model.eval();
        using var scope = NewDisposeScope();
        Dictionary<string, Projection> projections = RobertaFixtures.RecordMagnitudes(model);
        ModelBatch batch = RobertaFixtures.Batch(Mlm);
        ModelOutput output = model.call(batch);

        JsonElement expected = Mlm.GetProperty("magnitudes");
        // transformers' nn.Linear list, the tied decoder included: its magnitudes are Σ over real tokens of |logits|.
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), projections.Keys.Order());
        Tensor decoder = output.Logits.abs().mul(batch.AttentionMask!.unsqueeze(-1)).sum([0L, 1L]); // (V)
        RobertaFixtures.AssertClose([.. RobertaFixtures.Values(decoder).Select(v => (double)v)], RobertaFixtures.Values(projections["lm_head.decoder"].MagnitudeAccumulator!), "lm_head.decoder as Σ|logits|");
        AssertMagnitudes(projections, expected);
    }

    [Fact]
    public void Classifier_logits_and_loss_match_transformers_with_padding()
    {
        using var model = RobertaForSequenceClassification.FromPretrained(RobertaFixtures.ClassifierDirectory);
        model.eval();
        using var scope = NewDisposeScope();
        ModelOutput output = model.call(RobertaFixtures.Batch(Classifier));

        Assert.Equal([2L, 3L], output.Logits.shape);
        RobertaFixtures.AssertClose(RobertaFixtures.Doubles(Classifier.GetProperty("logits")), RobertaFixtures.Values(output.Logits), "classifier logits");
        RobertaFixtures.AssertClose(Classifier.GetProperty("loss").GetDouble(), output.Loss!.item<float>(), "classifier loss");
    }

    [Fact]
    public void Classifier_gradients_match_transformers()
    {
        using var model = RobertaForSequenceClassification.FromPretrained(RobertaFixtures.ClassifierDirectory);
        model.eval();
        AssertGradients(model, Classifier);
    }

    [Fact]
    public void Classifier_magnitudes_match_transformers_hooks_on_every_linear()
    {
        using var model = RobertaForSequenceClassification.FromPretrained(RobertaFixtures.ClassifierDirectory);
        model.eval();
        using var scope = NewDisposeScope();
        Dictionary<string, Projection> projections = RobertaFixtures.RecordMagnitudes(model);
        model.call(RobertaFixtures.Batch(Classifier));

        JsonElement expected = Classifier.GetProperty("magnitudes");
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), projections.Keys.Order());
        AssertMagnitudes(projections, expected);
    }

    private static void AssertGradients(LanguageModel model, JsonElement record)
    {
        using var scope = NewDisposeScope();
        ModelOutput output = model.call(RobertaFixtures.Batch(record));
        output.Loss!.backward();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        foreach (JsonProperty g in record.GetProperty("grads").EnumerateObject())
        {
            Tensor? grad = parameters[g.Name].grad;
            Assert.NotNull(grad);
            RobertaFixtures.AssertClose(RobertaFixtures.Doubles(g.Value), RobertaFixtures.Values(grad), $"gradient of {g.Name}");
        }
    }

    private static void AssertMagnitudes(Dictionary<string, Projection> projections, JsonElement expected)
    {
        foreach (var (name, p) in projections)
        {
            RobertaFixtures.AssertClose(RobertaFixtures.Doubles(expected.GetProperty(name)), RobertaFixtures.Values(p.MagnitudeAccumulator!), $"{name} magnitudes");
            p.MagnitudeAccumulator!.Dispose();
            p.MagnitudeAccumulator = null;
        }
    }
}
