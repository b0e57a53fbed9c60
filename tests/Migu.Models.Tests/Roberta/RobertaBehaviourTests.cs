using Migu.Core;
using Migu.Models.Encoders;
using Migu.Models.Roberta;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Roberta;

/// <summary>What RoBERTa does beyond matching fixed numbers: positions, padding, dropout, refusals.</summary>
public class RobertaBehaviourTests
{
    [Fact]
    public void Position_ids_count_real_tokens_from_pad_plus_one_and_pads_take_the_pad_position()
    {
        using var scope = NewDisposeScope();
        Tensor ids = tensor(new long[] { 0, 7, 8, 2, 1, 1, 0, 1, 9, 2, 5, 6 }).reshape(2, 6);
        long[] positions = EncoderEmbeddings.PaddingOffsetPositionIds(ids, padTokenId: 1).data<long>().ToArray();

        // A pad in the middle keeps position 1 and does not advance the count, as in transformers.
        Assert.Equal(new long[] { 2, 3, 4, 5, 1, 1, 2, 1, 3, 4, 5, 6 }, positions);
    }

    [Fact]
    public void Appending_padding_changes_neither_real_logits_nor_magnitudes()
    {
        torch.manual_seed(7);
        using var model = new RobertaForMaskedLM(RobertaPresets.Tiny);
        model.eval();
        using var scope = NewDisposeScope();
        Tensor ids = tensor(new long[] { 0, 11, 12, 13, 2 }).reshape(1, 5);
        Tensor padded = cat([ids, full(1, 3, 1L, ScalarType.Int64)], 1); // (1, 8)
        Tensor mask = cat([ones(1, 5, ScalarType.Int64), zeros(1, 3, ScalarType.Int64)], 1);

        var projections = RobertaFixtures.RecordMagnitudes(model);
        Tensor plain = model.call(new ModelBatch { InputIds = ids }).Logits; // (1, 5, V)
        var first = projections.ToDictionary(p => p.Key, p => p.Value.MagnitudeAccumulator!.clone());
        foreach (Projection p in projections.Values)
        {
            p.MagnitudeAccumulator!.zero_();
        }

        Tensor withPads = model.call(new ModelBatch { InputIds = padded, AttentionMask = mask }).Logits; // (1, 8, V)
        Assert.True(plain.allclose(withPads.narrow(1, 0, 5), rtol: 1e-5, atol: 1e-6));
        foreach (var (name, p) in projections)
        {
            Assert.True(first[name].allclose(p.MagnitudeAccumulator!, rtol: 1e-5, atol: 1e-5), $"{name} magnitudes counted padding");
            p.MagnitudeAccumulator = null;
        }
    }

    [Fact]
    public void Classifier_head_magnitudes_count_one_row_per_sequence()
    {
        using var model = new RobertaForSequenceClassification(RobertaPresets.Tiny with { NumLabels = 3 });
        model.eval();
        using var scope = NewDisposeScope();
        var projections = RobertaFixtures.RecordMagnitudes(model);
        Tensor ids = tensor(new long[] { 0, 5, 2, 1, 0, 6, 7, 2 }).reshape(2, 4);
        Tensor mask = ids.ne(1).to(ScalarType.Int64);

        Tensor logits = model.call(new ModelBatch { InputIds = ids, AttentionMask = mask }).Logits; // (2, 3)
        Tensor outProj = projections["classifier.out_proj"].MagnitudeAccumulator!;
        Assert.True(outProj.allclose(logits.abs().sum([0L]), rtol: 1e-5, atol: 1e-6));
        foreach (Projection p in projections.Values)
        {
            p.MagnitudeAccumulator = null;
        }
    }

    [Fact]
    public void Dropout_acts_in_train_mode_only()
    {
        torch.manual_seed(3);
        using var model = new RobertaForSequenceClassification(RobertaPresets.Tiny with { HiddenDropoutProb = 0.5, AttentionProbsDropoutProb = 0.5 });
        using var scope = NewDisposeScope();
        var batch = new ModelBatch { InputIds = tensor(new long[] { 0, 5, 6, 7, 2 }).reshape(1, 5) };

        model.train();
        Assert.False(RobertaFixtures.Same(model.call(batch).Logits, model.call(batch).Logits));
        model.eval();
        Assert.True(RobertaFixtures.Same(model.call(batch).Logits, model.call(batch).Logits));
    }

    [Fact]
    public void Regression_head_uses_mean_squared_error()
    {
        using var model = new RobertaForSequenceClassification(RobertaPresets.Tiny with { NumLabels = 1 });
        model.eval();
        using var scope = NewDisposeScope();
        Tensor target = tensor(new[] { 0.5f, -1.0f });
        ModelOutput output = model.call(new ModelBatch { InputIds = tensor(new long[] { 0, 5, 2, 0, 6, 2 }).reshape(2, 3), Labels = target });

        float expected = output.Logits.reshape(-1).sub(target).square().mean().item<float>();
        Assert.Equal(expected, output.Loss!.item<float>(), 6);
    }

    [Fact]
    public void Training_steps_leave_no_live_tensors_behind()
    {
        torch.manual_seed(5);
        using var model = new RobertaForMaskedLM(RobertaPresets.Tiny);
        model.train();
        using var ids = tensor(new long[] { 0, 5, 6, 7, 2, 0, 8, 2, 1, 1 }).reshape(2, 5);
        using var mask = ids.ne(1).to(ScalarType.Int64);
        using var labels = tensor(new long[] { -100, 5, -100, 7, -100, -100, 8, -100, -100, -100 }).reshape(2, 5);
        var batch = new ModelBatch { InputIds = ids, AttentionMask = mask, Labels = labels };

        void Step()
        {
            using var scope = NewDisposeScope();
            model.zero_grad();
            model.call(batch).Loss!.backward();
        }

        Step(); // gradients come to life here
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 10; i++)
        {
            Step();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Generate_is_refused_because_roberta_is_an_encoder()
    {
        using var model = new RobertaForMaskedLM(RobertaPresets.Tiny);
        using var ids = tensor(new long[] { 0, 2 }).reshape(1, 2);

        var e = Assert.Throws<MiguUserException>(() => model.Generate(ids, null, 3));
        Assert.Equal("RoBERTa is an encoder; it does not generate", e.Message);
    }

    [Fact]
    public void A_sequence_longer_than_the_position_table_is_refused()
    {
        using var model = new RobertaForMaskedLM(RobertaPresets.Tiny);
        using var ids = full(1, 39, 5L, ScalarType.Int64);

        var e = Assert.Throws<MiguUserException>(() => model.call(new ModelBatch { InputIds = ids }));
        Assert.Contains("max_position_embeddings", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Presets_build_and_the_tiny_one_is_small()
    {
        Assert.Equal(["roberta-base", "roberta-mini", "roberta-tiny"], RobertaPresets.All.Keys.Order());
        using var model = new RobertaForMaskedLM(RobertaPresets.All["roberta-tiny"]);
        long count = model.parameters().Sum(p => p.numel());
        Assert.InRange(count, 10_000, 100_000);
    }

    [Fact]
    public void The_tied_decoder_is_a_head_projection_on_the_word_embedding_listed_once()
    {
        using var model = new RobertaForMaskedLM(RobertaPresets.Tiny);
        var decoder = (Projection)model.named_modules().Single(m => m.name == "lm_head.decoder").module;
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);

        Assert.Equal(ProjectionKind.Head, decoder.Kind);
        Assert.True(decoder.IsTied);
        Assert.Same(parameters["roberta.embeddings.word_embeddings.weight"], decoder.Weight);
        Assert.Same(parameters["lm_head.bias"], decoder.Bias);
        Assert.DoesNotContain(parameters.Keys, k => k.StartsWith("lm_head.decoder.", StringComparison.Ordinal));
        Assert.Equal(parameters.Count, model.parameters().Count());
    }

    [Fact]
    public void Converting_the_model_keeps_the_decoder_on_the_word_embedding()
    {
        using var model = new RobertaForMaskedLM(RobertaPresets.Tiny);
        ((nn.Module)model).to(ScalarType.Float64);
        var decoder = (Projection)model.named_modules().Single(m => m.name == "lm_head.decoder").module;
        Parameter embedding = model.named_parameters().Single(p => p.name == "roberta.embeddings.word_embeddings.weight").parameter;

        Assert.Equal(ScalarType.Float64, decoder.Weight.dtype);
        Assert.Equal(embedding.Handle, decoder.Weight.Handle);
        Assert.Equal(ScalarType.Float64, decoder.Bias!.dtype);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Assert.Equal(ScalarType.Float64, model.call(new ModelBatch { InputIds = tensor(new long[] { 0, 11, 2 }).reshape(1, 3) }).Logits.dtype);
    }

    [Fact]
    public void Migu_head_selection_reaches_the_decoder_and_its_masked_rows_are_the_word_embeddings_rows()
    {
        // Update mode: the rows MIGU masks do not move at all. The decoder's rows are the word
        // embedding's, so a masked vocabulary entry keeps its embedding even when the batch uses it.
        // Weight decay would move a row whose gradient was merely zeroed: the optimizer must get the mask.
        torch.manual_seed(3);
        using var model = new RobertaForMaskedLM(RobertaPresets.Tiny);
        model.train();
        using var migu = new MiguController(model, new MiguOptions { Layers = "head", Threshold = 0.5, Mode = MiguMode.Update, SkipFirstTask = false });
        using var optimizer = new Migu.Core.Optim.RowMaskedAdamW(model.parameters(), 1e-2, weightDecay: 0.5);

        Assert.Equal(["lm_head.dense.weight", "lm_head.decoder.weight"], migu.Targets.Select(t => t.Name));
        Parameter embedding = model.named_parameters().Single(p => p.name == "roberta.embeddings.word_embeddings.weight").parameter;
        Assert.Same(embedding, migu.Targets[1].Weight); // the mask is keyed by the object the optimizer steps
        using Tensor before = embedding.detach().clone();
        using (var scope = NewDisposeScope())
        {
            Tensor ids = tensor(new long[] { 0, 11, 12, 13, 14, 15, 16, 2 }).reshape(1, 8);
            model.call(new ModelBatch { InputIds = ids, Labels = ids }).Loss!.backward();
            migu.Step(optimizer);
        }

        float[] keep = TestValues(migu.MaskOf(migu.Targets[1]));
        using Tensor moved = embedding.detach().ne(before).any(1);
        bool[] rowMoved = moved.data<bool>().ToArray();
        // Every vocabulary row gets a gradient through the softmax, so exactly the kept rows move.
        Assert.Equal(RobertaPresets.Tiny.VocabSize - (RobertaPresets.Tiny.VocabSize / 2), keep.Count(k => k == 1));
        Assert.Equal(keep.Select(k => k == 1), rowMoved);
    }

    private static float[] TestValues(Tensor t) => t.detach().cpu().to(ScalarType.Float32).reshape(-1).data<float>().ToArray();
}
