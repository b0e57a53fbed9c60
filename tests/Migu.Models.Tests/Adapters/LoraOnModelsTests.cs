using Migu.Core;
using Migu.Core.Lora;
using Migu.Core.Optim;
using Migu.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Adapters;

/// <summary>LoRA on the real model families: placement by kind, checkpoints untouched, MIGU on A and B, no leaks.</summary>
public class LoraOnModelsTests
{
    [Fact]
    public void On_t5_tiny_q_v_selects_self_and_cross_attention_of_every_block()
    {
        using var model = ModelLoader.Load("t5-tiny");
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q,v" });
        string[] expected =
        [
            "encoder.block.0.layer.0.SelfAttention.q", "encoder.block.0.layer.0.SelfAttention.v",
            "encoder.block.1.layer.0.SelfAttention.q", "encoder.block.1.layer.0.SelfAttention.v",
            "decoder.block.0.layer.0.SelfAttention.q", "decoder.block.0.layer.0.SelfAttention.v",
            "decoder.block.0.layer.1.EncDecAttention.q", "decoder.block.0.layer.1.EncDecAttention.v",
            "decoder.block.1.layer.0.SelfAttention.q", "decoder.block.1.layer.0.SelfAttention.v",
            "decoder.block.1.layer.1.EncDecAttention.q", "decoder.block.1.layer.1.EncDecAttention.v",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), lora.Layers.Select(l => l.ModuleName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("t5-tiny", "ffn", 8)] // wi and wo in 2 encoder and 2 decoder blocks
    [InlineData("t5-tiny", "all", 32)] // + q, k, v, o in 2 + 2·2 attentions
    [InlineData("llama-tiny", "q,v", 4)]
    [InlineData("llama-tiny", "all", 14)] // q, k, v, o, gate, up, down in 2 layers; never lm_head
    [InlineData("llama-tiny", "head", 1)]
    public void Selection_by_kind_counts_the_expected_modules_on_presets(string preset, string targets, int count)
    {
        using var model = ModelLoader.Load(preset);
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = targets });
        Assert.Equal(count, lora.Layers.Count);
        Assert.Equal(targets == "head", lora.Layers.Any(l => l.ModuleName == "lm_head"));
    }

    [Fact]
    public void Llama_ffn_targets_are_gate_up_and_down_by_kind()
    {
        using var model = ModelLoader.Load("llama-tiny");
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "ffn" });
        string[] expected =
        [
            "model.layers.0.mlp.down_proj", "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj",
            "model.layers.1.mlp.down_proj", "model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj",
        ];
        Assert.Equal(expected, lora.Layers.Select(l => l.ModuleName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_model_saved_with_LoRA_attached_has_the_same_keys_and_base_weights()
    {
        using var withLora = new AdapterTestKit.TempFolder();
        using var plain = new AdapterTestKit.TempFolder();
        using var model = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        ModelCheckpoint.Save(model, plain.Path);
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "all" });
        lora.AddAdapter("task", seed: 1);
        AdapterTestKit.Randomize(lora, "task", seed: 2);

        ModelCheckpoint.Save(model, withLora.Path);

        var a = StateDictFiles.Load(plain.Path);
        var b = StateDictFiles.Load(withLora.Path);
        Assert.Equal(a.Keys.Order(StringComparer.Ordinal), b.Keys.Order(StringComparer.Ordinal));
        Assert.All(a, kv => Assert.True(AdapterTestKit.Identical(kv.Value, b[kv.Key]), kv.Key));
    }

    [Fact]
    public void MIGU_update_mode_on_Llama_LoRA_moves_only_kept_rows_of_A_and_B_and_never_the_base()
    {
        using var model = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        model.train();
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q,v", Adapter = new LoraAdapterConfig { Rank = 4, Alpha = 8, Dropout = 0 } });
        lora.AddAdapter("task", seed: 1);
        AdapterTestKit.Randomize(lora, "task", seed: 2);
        using var optimizer = new RowMaskedAdamW(lora.Parameters("task"), learningRate: 1e-2, weightDecay: 0.0);
        using var migu = new MiguController(lora.MiguTargets("task"), new MiguOptions { Threshold = 0.5, Mode = MiguMode.Update, SkipFirstTask = false });
        Assert.Equal(2 * 4, migu.Targets.Count);
        var before = migu.Targets.Select(t => t.Weight.detach().clone()).ToList();
        var baseBefore = model.parameters().Select(p => p.detach().clone()).ToList();
        var batch = PeftFixtureInput.Llama();
        using var labels = batch.InputIds.masked_fill(batch.AttentionMask!.eq(0), -100);

        using (var scope = NewDisposeScope())
        {
            optimizer.ZeroGrad();
            using (migu.Recording())
            {
                model.call(new ModelBatch { InputIds = batch.InputIds, AttentionMask = batch.AttentionMask, Labels = labels }).Loss!.backward();
            }

            migu.Step(optimizer);
        }

        for (int i = 0; i < migu.Targets.Count; i++)
        {
            MaskTarget target = migu.Targets[i];
            long rows = target.Rows;
            using var moved = target.Weight.detach().ne(before[i]).any(1);
            Assert.Equal(rows - (long)Math.Floor(0.5 * rows), moved.sum().item<long>());
        }

        Assert.All(model.parameters().Zip(baseBefore), pair => Assert.True(AdapterTestKit.Identical(pair.First, pair.Second)));
    }

    [Fact]
    public void T5_LoRA_training_steps_and_generation_leave_no_live_tensors_behind()
    {
        using var model = ModelLoader.Load(AdapterTestKit.T5Directory);
        model.train();
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "all" });
        lora.AddAdapter("old", seed: 1);
        lora.AddAdapter("task", seed: 2);
        using var optimizer = new RowMaskedAdamW(lora.Parameters("task"));
        using var migu = new MiguController(lora.MiguTargets("task"), new MiguOptions { SkipFirstTask = false });
        using var ids = tensor(new long[] { 13, 7, 42, 9, 1, 21, 5, 1, 0, 0 }).reshape(2, 5);
        using var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }).reshape(2, 5);
        using var labels = tensor(new long[] { 5, 9, 1, 7, 1, -100 }).reshape(2, 3);

        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            using (migu.Recording())
            {
                model.call(new ModelBatch { InputIds = ids, AttentionMask = mask, Labels = labels }).Loss!.backward();
            }

            migu.Step(optimizer);
            model.Generate(ids, mask, 3);
        }

        Step();
        Step();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++)
        {
            Step();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Merging_into_a_tied_head_is_refused_because_the_embedding_shares_the_weight()
    {
        using var model = ModelLoader.Load(AdapterTestKit.T5Directory); // v1.1 fixture: tied head
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "head" });
        lora.AddAdapter("task", seed: 1);
        lora.SetTrainable(null);
        var e = Assert.Throws<MiguUserException>(() => lora.Merge("task"));
        Assert.Contains("'lm_head' shares its weight with 'shared.weight'", e.Message, StringComparison.Ordinal);
        Assert.False(lora.IsMerged("task"));
    }
}
