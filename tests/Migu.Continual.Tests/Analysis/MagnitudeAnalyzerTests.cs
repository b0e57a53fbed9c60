using Migu.Continual.Analysis;
using Migu.Continual.Runs;
using Migu.Core;
using Migu.Core.Lora;
using Migu.Models;
using Migu.Models.Adapters;
using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Analysis;

/// <summary>The whole analysis on the embedded demo tasks with tiny models: shapes, invariants, determinism, LoRA, errors.</summary>
public sealed class MagnitudeAnalyzerTests : IDisposable
{
    private static readonly MagnitudeAnalysisSettings Small = new() { Tasks = ["dbpedia", "agnews", "yelp"], Samples = 5, Batch = 3, MaxSourceLength = 96, MaxTargetLength = 8 };

    private readonly string dir = Directory.CreateTempSubdirectory("migu-analyze").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Every_model_gets_normalised_distributions_and_symmetric_similarities_averaged_over_its_layers()
    {
        MagnitudeAnalysis a = new MagnitudeAnalyzer(Small).Run([AnalysisSubject.ForModel("llama-tiny")]);

        Assert.Equal(["dbpedia", "agnews", "yelp"], a.Tasks);
        Assert.Equal([5, 5, 5], a.Samples);
        Assert.Equal(("test", "embedded demo data"), (a.Split, a.Data));
        ModelMagnitudes m = Assert.Single(a.Models);
        Assert.Equal("model.layers.0.mlp.up_proj", m.DistributionLayer); // the middle FFN input layer of two
        Assert.Equal(14, m.Layers.Count); // 2 blocks × (q, k, v, o, gate, up, down)
        Assert.All(m.Distributions, d =>
        {
            Assert.Equal(128, d.Length); // intermediate size of llama-tiny
            Assert.Equal(1, d.Sum(), 9);
            Assert.All(d, v => Assert.True(v > 0));
        });
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1, m.Similarity[i][i], 9);
            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(m.Similarity[i][j], m.Similarity[j][i], 12);
                Assert.Equal(m.Layers.Average(l => l.Similarity[i][j]), m.Similarity[i][j], 12);
                Assert.InRange(m.Similarity[i][j], 0, 1 + 1e-9);
            }
        }

        double offDiagonal = (m.Similarity[0][1] + m.Similarity[0][2] + m.Similarity[1][2]) / 3;
        Assert.Equal(offDiagonal, m.MeanOffDiagonal, 12);
        Assert.True(m.MeanOffDiagonal < 1, "different tasks gave identical magnitude vectors");
    }

    [Fact]
    public void The_same_model_twice_gives_the_same_numbers_under_distinct_labels()
    {
        MagnitudeAnalysis a = new MagnitudeAnalyzer(Small).Run([AnalysisSubject.ForModel("t5-tiny"), AnalysisSubject.ForModel("t5-tiny")]);

        Assert.Equal(["t5-tiny", "t5-tiny (2)"], a.Models.Select(m => m.Label));
        Assert.Equal(a.Models[0].Similarity, a.Models[1].Similarity);
        Assert.Equal(a.Models[0].Distributions, a.Models[1].Distributions);
    }

    [Fact]
    public void A_tasks_sample_does_not_depend_on_the_other_tasks()
    {
        var settings = Small with { Layers = "ffn", Layer = "model.layers.1.mlp.down_proj.weight" };
        MagnitudeAnalysis two = new MagnitudeAnalyzer(settings with { Tasks = ["agnews", "yelp"] }).Run([AnalysisSubject.ForModel("llama-tiny")]);
        MagnitudeAnalysis three = new MagnitudeAnalyzer(settings with { Tasks = ["amazon", "yelp", "agnews"] }).Run([AnalysisSubject.ForModel("llama-tiny")]);

        Assert.Equal("model.layers.1.mlp.down_proj", two.Models[0].DistributionLayer);
        Assert.Equal(two.Models[0].Distributions[1], three.Models[0].Distributions[1]); // yelp
        Assert.Equal(two.Models[0].Distributions[0], three.Models[0].Distributions[2]); // agnews
        Assert.Equal(two.Models[0].Similarity[0][1], three.Models[0].Similarity[2][1], 12);
        Assert.Equal(6, two.Models[0].Layers.Count); // gate, up, down in two blocks
    }

    [Fact]
    public void A_lora_checkpoint_measures_as_the_model_with_its_adapters_merged()
    {
        string baseDir = Path.Combine(dir, "base");
        string adapters = Path.Combine(dir, "task-02-agnews", "adapters");
        string merged = Path.Combine(dir, "merged");
        manual_seed(11);
        var (model, _) = ModelLoader.LoadWithTokenizer("llama-tiny", null, CPU);
        using (model)
        {
            ModelCheckpoint.Save(model, baseDir);
            EmbeddedTokenizer.WriteCompactFiles(baseDir);
            using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "all" });
            foreach (string name in new[] { "task1", "task2" })
            {
                lora.AddAdapter(name, seed: name.Length + name[^1]);
                using (no_grad())
                {
                    foreach (var (_, _, b) in lora.Weights(name))
                    {
                        b.copy_(randn_like(b).mul_(0.3)); // B starts at zero; give the adapter something to add
                    }
                }

                PeftAdapterFiles.Save(lora, name, Path.Combine(adapters, name));
            }

            lora.SetTrainable(null);
            lora.Merge("task1");
            lora.Merge("task2");

            lora.Detach(keepMerged: true);
            ModelCheckpoint.Save(model, merged);
            EmbeddedTokenizer.WriteCompactFiles(merged);
        }

        var withAdapters = new AnalysisSubject("lora", baseDir) { AdaptersDirectory = adapters };
        MagnitudeAnalysis a = new MagnitudeAnalyzer(Small).Run([withAdapters, AnalysisSubject.ForModel(merged), AnalysisSubject.ForModel(baseDir)]);

        Assert.Equal(adapters, a.Models[0].Adapters);
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(a.Models[1].Similarity[i][j], a.Models[0].Similarity[i][j], tolerance: 1e-6);
            }

            for (int u = 0; u < a.Models[0].Distributions[i].Length; u++)
            {
                Assert.Equal(a.Models[1].Distributions[i][u], a.Models[0].Distributions[i][u], tolerance: 1e-7);
            }
        }

        // The adapters change what is measured: without them the base model differs.
        Assert.True(Math.Abs(a.Models[2].Distributions[0][0] - a.Models[0].Distributions[0][0]) > 1e-5, "the adapters changed nothing");
    }

    [Fact]
    public void Analysis_json_round_trips_nan_included_and_refuses_newer_schemas()
    {
        MagnitudeAnalysis a = new MagnitudeAnalyzer(Small with { Tasks = ["agnews", "yelp"], Samples = 2 }).Run([AnalysisSubject.ForModel("llama-tiny")]);
        a = a with { Models = [a.Models[0] with { Note = "unfinished run", Similarity = [[1, double.NaN], [double.NaN, 1]] }] };

        string json = MagnitudeAnalysisFile.Serialize(a);
        string path = Path.Combine(dir, MagnitudeAnalysisFile.FileName);
        File.WriteAllText(path, json);
        MagnitudeAnalysis back = MagnitudeAnalysisFile.Read(path);

        Assert.Equal(json, MagnitudeAnalysisFile.Serialize(back));
        Assert.Equal(a.Tasks, back.Tasks);
        Assert.Equal(a.Models[0].Distributions, back.Models[0].Distributions);
        Assert.Equal(a.Models[0].Layers[3].Similarity, back.Models[0].Layers[3].Similarity);
        Assert.Equal(a.Models[0].Layers[3].Kind, back.Models[0].Layers[3].Kind);
        Assert.True(double.IsNaN(back.Models[0].Similarity[0][1]));
        Assert.Equal("unfinished run", back.Models[0].Note);
        Assert.Contains("\"distribution_layer\":", json, StringComparison.Ordinal);

        var newer = Assert.Throws<MiguUserException>(() => MagnitudeAnalysisFile.Deserialize(json.Replace("\"schema\":1", "\"schema\":2", StringComparison.Ordinal), "x.json"));
        Assert.Contains("schema 2 is newer", newer.Message, StringComparison.Ordinal);
        Assert.Throws<MiguUserException>(() => MagnitudeAnalysisFile.Deserialize("{\"tasks\": 3}", "x.json"));
    }

    [Theory]
    [InlineData("one task", "comparing tasks needs two or more")]
    [InlineData("unknown task", "the task list names tasks that are not there: imdb; available: agnews (TC), amazon (SC), dbpedia (TC), yelp (SC)")]
    [InlineData("unknown layer", "--layer 'model.layers.9.mlp.up_proj' names no linear layer of llama-tiny; its 15 linear layers include lm_head, model.layers.0.self_attn.q_proj, model.layers.0.self_attn.k_proj")]
    [InlineData("empty selection", "--layers 're:nothing' selects no linear layer of llama-tiny")]
    [InlineData("bad split", "--split: 'validation' is not one of train, dev, test")]
    [InlineData("no samples", "--samples must be at least 1")]
    [InlineData("no models", "no model to analyze")]
    public void Mistakes_are_one_line_user_errors(string mistake, string message)
    {
        MagnitudeAnalysisSettings settings = mistake switch
        {
            "one task" => Small with { Tasks = ["agnews"] },
            "unknown task" => Small with { Tasks = ["agnews", "imdb"] },
            "unknown layer" => Small with { Layer = "model.layers.9.mlp.up_proj" },
            "empty selection" => Small with { Layers = "re:nothing" },
            "bad split" => Small with { Split = "validation" },
            "no samples" => Small with { Samples = 0 },
            _ => Small,
        };
        AnalysisSubject[] subjects = mistake == "no models" ? [] : [AnalysisSubject.ForModel("llama-tiny")];

        var e = Assert.Throws<MiguUserException>(() => new MagnitudeAnalyzer(settings).Run(subjects));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_data_root_needs_the_tasks_named()
    {
        string root = Path.Combine(dir, "data");
        Directory.CreateDirectory(Path.Combine(root, "TC", "tiny"));
        File.WriteAllText(Path.Combine(root, "TC", "tiny", "labels.json"), "[\"a\", \"b\"]");
        File.WriteAllText(Path.Combine(root, "TC", "tiny", "train.json"), "[{\"sentence\": \"x\", \"label\": \"a\"}]");
        File.WriteAllText(Path.Combine(root, "TC", "tiny", "test.json"), "[{\"sentence\": \"x\", \"label\": \"a\"}]");

        var e = Assert.Throws<MiguUserException>(() => new MagnitudeAnalyzer(Small with { Data = root, Tasks = null }).Run([AnalysisSubject.ForModel("llama-tiny")]));

        Assert.Contains("no tasks named; give --tasks a,b,c (available: tiny (TC))", e.Message, StringComparison.Ordinal);
    }
}
