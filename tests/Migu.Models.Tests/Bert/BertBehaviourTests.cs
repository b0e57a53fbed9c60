using Migu.Core;
using Migu.Models.Bert;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Bert;

/// <summary>
/// BERT's masked-LM decoder as transformers has it, an nn.Linear whose weight is the word
/// embedding: a tied head projection that owns nothing, follows the embedding through
/// conversions, and is the one tensor MIGU's head selection masks.
/// </summary>
public class BertBehaviourTests
{
    private const string WordEmbedding = "bert.embeddings.word_embeddings.weight";

    [Fact]
    public void The_tied_decoder_is_a_head_projection_on_the_word_embedding_listed_once()
    {
        using var model = new BertForMaskedLM(BertPresets.Tiny);
        var decoder = (Projection)model.named_modules().Single(m => m.name == "cls.predictions.decoder").module;
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);

        Assert.Equal(ProjectionKind.Head, decoder.Kind);
        Assert.True(decoder.IsTied);
        Assert.Same(parameters[WordEmbedding], decoder.Weight);
        Assert.Same(parameters["cls.predictions.bias"], decoder.Bias);
        Assert.DoesNotContain(parameters.Keys, k => k.StartsWith("cls.predictions.decoder.", StringComparison.Ordinal));
        Assert.Equal(parameters.Count, model.parameters().Count());
    }

    [Fact]
    public void Converting_the_model_keeps_the_decoder_on_the_word_embedding()
    {
        using var model = new BertForMaskedLM(BertPresets.Tiny);
        ((nn.Module)model).to(ScalarType.Float64);
        var decoder = (Projection)model.named_modules().Single(m => m.name == "cls.predictions.decoder").module;
        Parameter embedding = model.named_parameters().Single(p => p.name == WordEmbedding).parameter;

        Assert.Equal(ScalarType.Float64, decoder.Weight.dtype);
        Assert.Equal(embedding.Handle, decoder.Weight.Handle);
        Assert.Equal(ScalarType.Float64, decoder.Bias!.dtype);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Assert.Equal(ScalarType.Float64, model.call(new ModelBatch { InputIds = tensor(new long[] { 2, 11, 3 }).reshape(1, 3) }).Logits.dtype);
    }

    [Fact]
    public void Migu_head_selection_reaches_the_decoder_and_its_masked_rows_are_the_word_embeddings_rows()
    {
        // Update mode: masked rows do not move at all, weight decay included. Every vocabulary row
        // gets a gradient through the softmax, so exactly the kept rows of the embedding move.
        torch.manual_seed(5);
        using var model = new BertForMaskedLM(BertPresets.Tiny);
        model.train();
        using var migu = new MiguController(model, new MiguOptions { Layers = "head", Threshold = 0.5, Mode = MiguMode.Update, SkipFirstTask = false });
        using var optimizer = new Migu.Core.Optim.RowMaskedAdamW(model.parameters(), 1e-2, weightDecay: 0.5);

        Assert.Equal(["cls.predictions.decoder.weight", "cls.predictions.transform.dense.weight"], migu.Targets.Select(t => t.Name).Order(StringComparer.Ordinal));
        MaskTarget decoder = migu.Targets.Single(t => t.Name == "cls.predictions.decoder.weight");
        Parameter embedding = model.named_parameters().Single(p => p.name == WordEmbedding).parameter;
        Assert.Same(embedding, decoder.Weight); // the mask is keyed by the object the optimizer steps
        using Tensor before = embedding.detach().clone();
        using (var scope = NewDisposeScope())
        {
            Tensor ids = tensor(new long[] { 2, 11, 12, 13, 14, 15, 16, 3 }).reshape(1, 8);
            model.call(new ModelBatch { InputIds = ids, Labels = ids }).Loss!.backward();
            migu.Step(optimizer);
        }

        float[] keep = migu.MaskOf(decoder).detach().cpu().to(ScalarType.Float32).reshape(-1).data<float>().ToArray();
        using Tensor moved = embedding.detach().ne(before).any(1);
        long vocab = BertPresets.Tiny.VocabSize;
        Assert.Equal(vocab - (vocab / 2), keep.Count(k => k == 1));
        Assert.Equal(keep.Select(k => k == 1), moved.data<bool>().ToArray());
    }
}
