using Migu.Core.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Tests;

public class MiguControllerTests
{
    [Fact]
    public void Selection_by_kind_and_by_name_pattern()
    {
        using var model = new TinyMlp(); // fc1 FFN up, fc2 query, fc3 FFN down
        string[] Names(string layers)
        {
            using var migu = new MiguController(model, new MiguOptions { Layers = layers });
            return migu.Targets.Select(t => t.Name).ToArray();
        }

        Assert.Equal(["fc1.weight", "fc2.weight", "fc3.weight"], Names("all"));
        Assert.Equal(["fc2.weight"], Names("attention"));
        Assert.Equal(["fc1.weight", "fc3.weight"], Names("ffn"));
        Assert.Equal(["fc2.weight"], Names("q,k"));
        Assert.Equal(["fc3.weight"], Names("re:fc[3]$"));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void Threshold_outside_zero_to_one_is_refused(double t)
    {
        using var model = new TinyMlp();
        var e = Assert.Throws<MiguUserException>(() => new MiguController(model, new MiguOptions { Threshold = t }));
        Assert.Contains("[0, 1)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("qkv", "unknown selection")]
    [InlineData("re:(", "not a valid regular expression")]
    [InlineData(" , ", "empty")]
    [InlineData("k,v", "select no trainable projection")]
    public void Bad_or_empty_layer_selections_are_refused(string layers, string message)
    {
        using var model = new TinyMlp();
        var e = Assert.Throws<MiguUserException>(() => new MiguController(model, new MiguOptions { Layers = layers }));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Frozen_projections_are_not_targets()
    {
        using var model = new TinyMlp();
        foreach (var (name, p) in model.named_parameters())
        {
            p.requires_grad = name.StartsWith("fc2", StringComparison.Ordinal);
        }

        using var migu = new MiguController(model, new MiguOptions());
        Assert.Equal(["fc2.weight"], migu.Targets.Select(t => t.Name));
    }

    [Fact]
    public void Magnitudes_accumulate_over_micro_batches_and_reset_after_the_step()
    {
        torch.manual_seed(3);
        using var model = new TinyMlp();
        using var optimizer = new RowMaskedAdamW(model.parameters());
        using var migu = new MiguController(model, new MiguOptions());
        using var a = randn(3, 8);
        using var b = randn(5, 8);

        float[] Alone(Tensor x)
        {
            migu.Reset();
            using var scope = NewDisposeScope();
            using (migu.Recording())
            {
                model.call(x);
            }

            return TestTensors.Values(migu.MagnitudesOf(migu.Targets[1]));
        }

        float[] expected = Alone(a).Zip(Alone(b), (p, q) => p + q).ToArray();
        migu.Reset();
        using (var scope = NewDisposeScope())
        {
            using (migu.Recording())
            {
                model.call(a).sum().backward(); // micro-batch 1
                model.call(b).sum().backward(); // micro-batch 2
            }

            model.call(a); // outside the step's recording: an evaluation pass, not counted
            TestTensors.AssertClose(expected.Select(v => (double)v).ToArray(), TestTensors.Values(migu.MagnitudesOf(migu.Targets[1])), 1e-5, 1e-5, "accumulated");
            migu.Step(optimizer);
            Assert.All(TestTensors.Values(migu.MagnitudesOf(migu.Targets[1])), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void Masks_zero_exactly_the_masked_gradient_rows()
    {
        torch.manual_seed(5);
        using var model = new TinyMlp();
        using var migu = new MiguController(model, new MiguOptions { Threshold = 0.7 });
        using var scope = NewDisposeScope();
        using (migu.Recording())
        {
            model.call(randn(6, 8)).square().sum().backward();
        }

        var before = migu.Targets.Select(t => TestTensors.Values(t.Weight.grad!)).ToArray();

        migu.BuildMasks();
        migu.MaskGradients();

        for (int i = 0; i < migu.Targets.Count; i++)
        {
            MaskTarget target = migu.Targets[i];
            float[] mask = TestTensors.Values(migu.MaskOf(target));
            float[] grad = TestTensors.Values(target.Weight.grad!);
            long cols = target.Weight.shape[1];
            Assert.Equal(target.Rows - MaskBuilder.MaskedCount(target.Rows, 0.7), (long)mask.Sum());
            for (int r = 0; r < target.Rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    Assert.Equal(mask[r] == 0 ? 0f : before[i][(r * cols) + c], grad[(r * cols) + c]);
                }
            }
        }
    }

    [Fact]
    public void Batched_masks_equal_per_layer_masks_from_the_recorded_magnitudes()
    {
        torch.manual_seed(11);
        using var model = new TinyMlp(8, 16); // fc1 and fc2 share width 16, fc3 is 8 wide
        using var migu = new MiguController(model, new MiguOptions { Threshold = 0.6 });
        using var scope = NewDisposeScope();
        using (migu.Recording())
        {
            model.call(randn(7, 8));
        }

        migu.BuildMasks();
        foreach (MaskTarget t in migu.Targets)
        {
            Tensor alone = MaskBuilder.TopK(migu.MagnitudesOf(t).unsqueeze(0), 0.6);
            Assert.Equal(TestTensors.Values(alone), TestTensors.Values(migu.MaskOf(t)));
        }
    }

    [Fact]
    public void Skipped_first_task_records_nothing_and_masks_nothing()
    {
        torch.manual_seed(2);
        using var model = new TinyMlp();
        using var migu = new MiguController(model, new MiguOptions());
        migu.BeginTask(0);
        Assert.False(migu.Active);
        using (migu.Recording())
        {
            Assert.All(migu.Targets, t => Assert.Null(((Projection)model.named_modules().First(m => m.name + ".weight" == t.Name).module).MagnitudeAccumulator));
        }

        migu.BeginTask(1);
        Assert.True(migu.Active);

        using var always = new MiguController(new TinyMlp(), new MiguOptions { SkipFirstTask = false });
        always.BeginTask(0);
        Assert.True(always.Active);
    }

    [Fact]
    public void Random_baseline_masks_exactly_floor_T_d_rows_uniformly_and_reproducibly()
    {
        float[][] Run(long seed, int steps)
        {
            using var model = new TinyMlp(8, 20);
            using var migu = new MiguController(model, new MiguOptions { Source = MaskSource.Random, Threshold = 0.7, Seed = seed });
            var history = new List<float[]>();
            for (int s = 0; s < steps; s++)
            {
                migu.BuildMasks();
                history.Add(TestTensors.Values(migu.MaskOf(migu.Targets[1])));
            }

            Assert.Null(model.named_modules().Select(m => m.module).OfType<Projection>().First().MagnitudeAccumulator);
            return [.. history];
        }

        float[][] a = Run(42, 400);
        Assert.All(a, m => Assert.Equal(20 - 14, (int)m.Sum()));
        for (int row = 0; row < 20; row++)
        {
            double maskedShare = a.Count(m => m[row] == 0) / 400.0;
            Assert.InRange(maskedShare, 0.6, 0.8); // 0.7 ± 4.4 standard deviations
        }

        Assert.Equal(a.Take(20), Run(42, 20));
        Assert.NotEqual(a.Take(20), Run(43, 20));
    }

    [Fact]
    public void Random_masks_continue_from_an_exported_generator_state_as_if_never_interrupted()
    {
        float[] Draw(MiguController migu)
        {
            migu.BuildMasks();
            return TestTensors.Values(migu.MaskOf(migu.Targets[1]));
        }

        var options = new MiguOptions { Source = MaskSource.Random, Threshold = 0.5, Seed = 9 };
        using var model = new TinyMlp(8, 20);
        using var whole = new MiguController(model, options);
        float[][] uninterrupted = [.. Enumerable.Range(0, 6).Select(_ => Draw(whole))];

        using var first = new MiguController(model, options);
        for (int s = 0; s < 3; s++)
        {
            Draw(first);
        }

        byte[] state = first.ExportRandomState()!;
        using var resumed = new MiguController(model, options); // a fresh process: the generator starts at the seed
        Assert.Equal(uninterrupted[0], Draw(resumed)); // without the state, step 3 would repeat step 0's mask
        resumed.ImportRandomState(state);
        Assert.Equal(uninterrupted[3..], Enumerable.Range(0, 3).Select(_ => Draw(resumed)));

        using var magnitude = new MiguController(model, options with { Source = MaskSource.Magnitude });
        Assert.Null(magnitude.ExportRandomState());
        Assert.Throws<InvalidOperationException>(() => magnitude.ImportRandomState(state));
    }

    [Fact]
    public void Quantile_rule_is_used_when_chosen()
    {
        // At T = 0.3 the two rules keep different numbers of rows on both of TinyMlp's widths.
        // Top-k masks ⌊T·d⌋ rows: 4 of 16 and 2 of 8. The quantile q lies at position T·(d − 1) of
        // the sorted magnitudes (4.5 of 16, 2.1 of 8) and rows ≥ q are kept: 5 of 16 and 3 of 8 are masked.
        // (At T = 0.5 on these widths the rules agree, so such a test could not tell them apart.)
        var quantile = KeptRows(ThresholdRule.Quantile);
        var topK = KeptRows(ThresholdRule.TopK);

        Assert.Equal([("fc1.weight", 11), ("fc2.weight", 11), ("fc3.weight", 5)], quantile.Select(t => (t.Name, t.Kept.Count)));
        Assert.Equal([("fc1.weight", 12), ("fc2.weight", 12), ("fc3.weight", 6)], topK.Select(t => (t.Name, t.Kept.Count)));
        for (int i = 0; i < quantile.Count; i++)
        {
            // Both keep the largest magnitudes; the quantile rule keeps one row fewer.
            int[] byMagnitude = [.. quantile[i].Magnitudes.Select((m, row) => (m, row)).OrderByDescending(x => x.m).Select(x => x.row)];
            Assert.Equal(byMagnitude.Take(quantile[i].Kept.Count).Order(), quantile[i].Kept);
            Assert.Equal(byMagnitude.Take(topK[i].Kept.Count).Order(), topK[i].Kept);
        }
    }

    /// <summary>The rows each target keeps after one forward of a fixed batch, and its magnitudes.</summary>
    private static List<(string Name, List<int> Kept, float[] Magnitudes)> KeptRows(ThresholdRule rule)
    {
        torch.manual_seed(9);
        using var model = new TinyMlp();
        using var migu = new MiguController(model, new MiguOptions { Rule = rule, Threshold = 0.3 });
        using var scope = NewDisposeScope();
        using var recording = migu.Recording();
        model.call(randn(4, 8));
        migu.BuildMasks();
        return [.. migu.Targets.Select(t => (
            t.Name,
            TestTensors.Values(migu.MaskOf(t)).Select((keep, row) => (keep, row)).Where(x => x.keep == 1).Select(x => x.row).ToList(),
            TestTensors.Values(migu.MagnitudesOf(t))))];
    }

    [Fact]
    public void Options_round_trip_through_json()
    {
        var options = new MiguOptions { Threshold = 0.5, Layers = "q,v", Mode = MiguMode.Update, Rule = ThresholdRule.Quantile, Source = MaskSource.Random, Seed = 7, SkipFirstTask = false };
        string json = System.Text.Json.JsonSerializer.Serialize(options);
        Assert.Contains("\"update\"", json, StringComparison.Ordinal);
        Assert.Equal(options, System.Text.Json.JsonSerializer.Deserialize<MiguOptions>(json));
    }
}
