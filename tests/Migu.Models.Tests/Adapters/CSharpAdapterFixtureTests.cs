using System.Text.Json;
using Migu.Core.Lora;
using Migu.Models.Adapters;
using Migu.Models.Checkpoints;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Adapters;

/// <summary>
/// The other direction of PEFT interop: adapters our code saves, committed under Fixtures/peft/csharp_*
/// with the logits our code computed (csharp.json), for <c>tools/peft_lora_fixture.py --check</c> to
/// load in PEFT. With MIGU_WRITE_FIXTURES=1 the test (re)writes those folders in the source tree;
/// otherwise it checks that the committed folders are still exactly what the code writes and
/// computes, so the Python check stays meaningful.
/// </summary>
public class CSharpAdapterFixtureTests
{
    public static TheoryData<string> Cases => ["csharp_llama_gqa", "csharp_llama_gqa_layer1", "csharp_t5_v11"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_committed_CSharp_adapter_is_what_the_code_writes_and_gives_the_recorded_logits(string name)
    {
        Case c = Case.Named(name);
        using var model = ModelLoader.Load(Path.Combine(PeftFixture.FixturesRoot, c.BaseModel));
        using var lora = LoraAdapters.Attach(model, c.Options);
        lora.AddAdapter("task", seed: c.Seed);
        AdapterTestKit.Randomize(lora, "task", c.Seed + 1);
        model.eval();

        string directory = Path.Combine(PeftFixture.Root, name);
        if (Environment.GetEnvironmentVariable("MIGU_WRITE_FIXTURES") == "1")
        {
            directory = Path.Combine(RepoRoot(), "tests", "Migu.Models.Tests", "Fixtures", "peft", name);
            Write(c, model, lora, directory);
        }

        var fx = PeftFixture.CSharp(directory);
        using var fresh = new AdapterTestKit.TempFolder();
        PeftAdapterFiles.Save(lora, "task", fresh.Path, baseModelNameOrPath: c.BaseModel);
        Assert.Equal(
            File.ReadAllText(Path.Combine(fx.Directory, PeftAdapterFiles.ConfigFile)),
            File.ReadAllText(Path.Combine(fresh.Path, PeftAdapterFiles.ConfigFile)));
        var committed = StateDictFiles.LoadSafeTensorsFile(Path.Combine(fx.Directory, PeftAdapterFiles.WeightsFile));
        var written = StateDictFiles.LoadSafeTensorsFile(Path.Combine(fresh.Path, PeftAdapterFiles.WeightsFile));
        Assert.Equal(written.Keys.Order(StringComparer.Ordinal), committed.Keys.Order(StringComparer.Ordinal));
        Assert.All(written, kv => Assert.True(AdapterTestKit.Identical(kv.Value, committed[kv.Key]), kv.Key));

        using var reloadedModel = ModelLoader.Load(fx.BaseModelDirectory);
        using var reloaded = PeftAdapterFiles.Attach(reloadedModel, fx.Directory, "task");
        reloadedModel.eval();
        using (var scope = NewDisposeScope())
        {
            PeftFixture.AssertClose(fx.Doubles("logits"), PeftFixture.Values(reloadedModel.call(fx.Batch()).Logits), $"{name} logits");
        }

        reloaded.SetTrainable(null);
        reloaded.Merge("task");
        using (var scope = NewDisposeScope())
        {
            PeftFixture.AssertClose(fx.Doubles("merged_logits"), PeftFixture.Values(reloadedModel.call(fx.Batch()).Logits), $"{name} merged logits");
        }
    }

    private static void Write(Case c, LanguageModel model, LoraAdapters lora, string directory)
    {
        PeftAdapterFiles.Save(lora, "task", directory, baseModelNameOrPath: c.BaseModel);
        using var scope = NewDisposeScope();
        ModelBatch batch = c.Batch();
        Tensor logits = model.call(batch).Logits;
        lora.SetTrainable(null);
        lora.Merge("task");
        Tensor merged = model.call(batch).Logits;
        lora.Unmerge("task");

        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("base_model", c.BaseModel);
            WriteIds(json, "input_ids", batch.InputIds);
            WriteIds(json, "attention_mask", batch.AttentionMask!);
            if (batch.DecoderInputIds is not null)
            {
                WriteIds(json, "decoder_input_ids", batch.DecoderInputIds);
            }

            json.WriteStartArray("logits_shape");
            foreach (long d in logits.shape)
            {
                json.WriteNumberValue(d);
            }

            json.WriteEndArray();
            WriteFloats(json, "logits", logits);
            WriteFloats(json, "merged_logits", merged);
            json.WriteEndObject();
        }

        File.WriteAllBytes(Path.Combine(directory, "csharp.json"), stream.ToArray());
    }

    private static void WriteIds(Utf8JsonWriter json, string key, Tensor ids)
    {
        json.WriteStartArray(key);
        for (long row = 0; row < ids.shape[0]; row++)
        {
            json.WriteStartArray();
            foreach (long id in ids[row].data<long>())
            {
                json.WriteNumberValue(id);
            }

            json.WriteEndArray();
        }

        json.WriteEndArray();
    }

    private static void WriteFloats(Utf8JsonWriter json, string key, Tensor values)
    {
        json.WriteStartArray(key);
        foreach (float v in values.detach().cpu().to(ScalarType.Float32).reshape(-1).data<float>())
        {
            json.WriteNumberValue(v); // shortest round-trip form of the fp32 value
        }

        json.WriteEndArray();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Migu.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("cannot find the repository root (Migu.slnx) above " + AppContext.BaseDirectory);
    }

    /// <summary>One C#-written fixture: base model, LoRA placement and settings, seed and input.</summary>
    private sealed record Case(string BaseModel, LoraOptions Options, long Seed, Func<ModelBatch> Batch)
    {
        public static Case Named(string name) => name switch
        {
            // Attention and FFN, leaf names in target_modules, a non-integral alpha.
            "csharp_llama_gqa" => new("llama/llama_gqa", new LoraOptions { Targets = "all", Adapter = new LoraAdapterConfig { Rank = 4, Alpha = 12.5, Dropout = 0.05 } }, 21, LlamaBatch),
            // One layer's q and o: only full module names say that.
            "csharp_llama_gqa_layer1" => new("llama/llama_gqa", new LoraOptions { Targets = @"re:^model\.layers\.1\.self_attn\.[qo]_proj$", Adapter = new LoraAdapterConfig { Rank = 2, Alpha = 4 } }, 31, LlamaBatch),
            // Self- and cross-attention of T5 v1.1, rank-stabilised scaling.
            "csharp_t5_v11" => new("t5/v11", new LoraOptions { Targets = "attention", Adapter = new LoraAdapterConfig { Rank = 4, Alpha = 8, UseRsLora = true } }, 41, T5Batch),
            _ => throw new ArgumentException(name, nameof(name)),
        };

        private static ModelBatch LlamaBatch() => new()
        {
            InputIds = tensor(new long[] { 1, 17, 5, 45, 1, 88, 0, 0 }).reshape(2, 4),
            AttentionMask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0 }).reshape(2, 4),
        };

        private static ModelBatch T5Batch() => new()
        {
            InputIds = tensor(new long[] { 13, 7, 42, 9, 1, 21, 5, 1, 0, 0 }).reshape(2, 5),
            AttentionMask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }).reshape(2, 5),
            DecoderInputIds = tensor(new long[] { 0, 5, 9, 3, 0, 7, 2, 11 }).reshape(2, 4),
        };
    }
}
