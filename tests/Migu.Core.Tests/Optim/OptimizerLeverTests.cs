using Migu.Core.Optim;
using Migu.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Tests.Optim;

/// <summary>
/// The optimizer-side speed levers against the paths they replace, on a model whose weights of one
/// shape are not neighbours in the model (so the mixed-precision optimizer's shape segments gather
/// weights from different places) and whose widths are not multiples of the CPU's vector length.
/// Bit-identical where the lever only reorganises work (kept-row indices, batched rows, folded masks);
/// to fp32 rounding where a different kernel computes the formula (fused AdamW).
/// </summary>
public sealed class OptimizerLeverTests
{
    private static readonly PerformanceLevers Off = PerformanceLevers.None;

    [Theory]
    [InlineData(false, ThresholdRule.TopK)]
    [InlineData(true, ThresholdRule.TopK)]
    [InlineData(true, ThresholdRule.Quantile)]
    public void Update_mode_from_kept_row_indices_is_bit_identical_to_the_nonzero_path(bool mixed, ThresholdRule rule)
    {
        var before = Train(Off, MiguMode.Update, mixed, rule);
        var after = Train(Off with { IndexedUpdateRows = true }, MiguMode.Update, mixed, rule);

        AssertSameState(before, after);
        Assert.Contains(before.Keys, k => k.EndsWith(".row_steps", StringComparison.Ordinal)); // update mode really ran
    }

    [Fact]
    public void Gradient_mode_steps_of_the_mixed_precision_optimizer_after_update_mode_count_rows_as_before()
    {
        // Update mode for three steps, then MIGU off: the row-counted weights keep their own counts.
        var before = Train(Off, MiguMode.Update, mixed: true, ThresholdRule.TopK, switchOffAfter: 3);
        var after = Train(Off with { IndexedUpdateRows = true }, MiguMode.Update, mixed: true, ThresholdRule.TopK, switchOffAfter: 3);

        AssertSameState(before, after);
    }

    [Theory]
    [InlineData(false, MiguMode.Gradient)]
    [InlineData(true, MiguMode.Gradient)]
    [InlineData(true, MiguMode.Update)]
    public void Folded_masks_give_the_same_step_as_masking_every_gradient_first(bool mixed, MiguMode mode)
    {
        var before = Train(Off with { IndexedUpdateRows = true }, mode, mixed, ThresholdRule.TopK);
        var after = Train(Off with { IndexedUpdateRows = true, FoldedGradientMasks = true }, mode, mixed, ThresholdRule.TopK);

        AssertSameState(before, after);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fused_adamw_matches_the_term_by_term_update_to_fp32_rounding(bool mixed)
    {
        // The same gradients for both (no model in the loop, so no drift through the forward pass).
        Dictionary<string, float[]> Run(PerformanceLevers levers)
        {
            using var use = PerformanceLevers.Use(levers);
            manual_seed(12);
            ScalarType dtype = mixed ? ScalarType.BFloat16 : ScalarType.Float32;
            Parameter[] ps = [new(randn(6, 5).to(dtype)), new(randn(9).to(dtype)), new(randn(6, 5).to(dtype)), new(randn(3, 17).to(dtype))];
            using IStatefulOptimizer optimizer = mixed
                ? new MixedPrecisionAdamW(ps, 1e-2, weightDecay: 0.1)
                : new RowMaskedAdamW(ps, 1e-2, weightDecay: 0.1);
            using var gradients = new Generator(4);
            for (int s = 0; s < 5; s++)
            {
                foreach (Parameter p in ps)
                {
                    using Tensor g = randn(p.shape, generator: gradients).to(dtype);
                    if (mixed)
                    {
                        p.grad!.copy_(g); // views of the optimizer's flat buffer
                    }
                    else
                    {
                        p.grad = g.clone();
                    }
                }

                optimizer.Step(null);
            }

            var names = ps.Select((p, i) => (p, i)).ToDictionary(e => e.p, e => $"p{e.i}", ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);
            var state = optimizer.ExportState(names).ToDictionary(kv => kv.Key, kv => TestTensors.Values(kv.Value), StringComparer.Ordinal);
            for (int i = 0; i < ps.Length; i++)
            {
                state[$"p{i}"] = TestTensors.Values(ps[i]);
            }

            return state;
        }

        var before = Run(Off);
        var after = Run(Off with { FusedAdamW = true });

        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        bool anyDifferent = false;
        foreach (var (name, expected) in before)
        {
            float[] actual = after[name];
            // A bf16 weight is its master's rounding: masters 1 ulp apart may round one bf16 step apart.
            double relative = mixed && !name.Contains('.', StringComparison.Ordinal) ? 1.0 / 128 : 1e-6;
            for (int i = 0; i < expected.Length; i++)
            {
                anyDifferent |= expected[i] != actual[i];
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-9 + (relative * Math.Abs(expected[i])), $"{name}[{i}]: {expected[i]} vs {actual[i]}");
            }
        }

        Assert.True(anyDifferent, "the fused kernel rounds somewhere differently; identical results would mean it never ran");
    }

    [Fact]
    public void Fused_adamw_follows_torchsharps_own_adamw()
    {
        manual_seed(21);
        var ours = new Parameter(randn(7, 5));
        var theirs = new Parameter(ours.detach().clone());
        using var fused = new RowMaskedAdamW([ours], learningRate: 1e-2, weightDecay: 0.1);
        var reference = optim.AdamW([theirs], lr: 1e-2, weight_decay: 0.1);
        using (PerformanceLevers.Use(Off with { FusedAdamW = true }))
        {
            for (int s = 0; s < 4; s++)
            {
                using Tensor g = randn(7, 5);
                ours.grad = g.clone();
                theirs.grad = g.clone();
                fused.Step(null);
                reference.step();
            }
        }

        TestTensors.AssertClose([.. TestTensors.Values(theirs).Select(v => (double)v)], TestTensors.Values(ours), 1e-6, 1e-6, "weights");
    }

    [Fact]
    public void Kept_rows_are_the_rows_the_top_k_mask_keeps_in_ascending_order()
    {
        manual_seed(5);
        using Tensor magnitudes = randn(3, 11).abs();
        var (mask, rows) = MaskBuilder.TopKWithRows(magnitudes, 0.7);
        using var m = mask;
        using var r = rows;
        using Tensor expectedMask = MaskBuilder.TopK(magnitudes, 0.7);
        Assert.Equal(TestTensors.Values(expectedMask), TestTensors.Values(m));
        for (int layer = 0; layer < 3; layer++)
        {
            using Tensor nonzero = m[layer].nonzero().reshape(-1);
            Assert.Equal(nonzero.data<long>().ToArray(), r[layer].data<long>().ToArray());
        }
    }

    [Fact]
    public void Forgetting_row_steps_puts_every_weight_back_on_the_whole_tensor_path()
    {
        using var levers = PerformanceLevers.Use(Off with { IndexedUpdateRows = true });
        manual_seed(8);
        var model = new LeverModel();
        model.to(ScalarType.BFloat16);
        using var optimizer = new MixedPrecisionAdamW(model.parameters(), 1e-2);
        using var migu = new MiguController(model, new MiguOptions { Mode = MiguMode.Update });
        StepOnce(model, optimizer, migu, randn(2, 3, LeverModel.Width).to(ScalarType.BFloat16));
        var names = model.named_parameters().ToDictionary(kv => kv.parameter, kv => kv.name, ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);
        Assert.Contains(optimizer.ExportState(names).Keys, k => k.EndsWith(".row_steps", StringComparison.Ordinal));

        optimizer.ForgetRowSteps();

        Assert.DoesNotContain(optimizer.ExportState(names).Keys, k => k.EndsWith(".row_steps", StringComparison.Ordinal));
    }

    /// <summary>Steps of a MIGU run under <paramref name="levers"/>; the optimizer's exported state (weights and masters included) by name.</summary>
    private static Dictionary<string, float[]> Train(
        PerformanceLevers levers, MiguMode mode, bool mixed, ThresholdRule rule, int steps = 6, int? switchOffAfter = null)
    {
        using var use = PerformanceLevers.Use(levers);
        manual_seed(11);
        var model = new LeverModel();
        if (mixed)
        {
            model.to(ScalarType.BFloat16);
        }

        using IStatefulOptimizer optimizer = mixed
            ? new MixedPrecisionAdamW(model.parameters(), 1e-2, weightDecay: 0.1)
            : new RowMaskedAdamW(model.parameters(), 1e-2, weightDecay: 0.1);
        using var migu = new MiguController(model, new MiguOptions { Threshold = 0.7, Mode = mode, Rule = rule });
        using var inputs = new Generator(3);
        for (int s = 0; s < steps; s++)
        {
            if (s == switchOffAfter)
            {
                migu.SetActive(false);
            }

            using Tensor x = randn([4, 5, LeverModel.Width], generator: inputs);
            StepOnce(model, optimizer, migu, mixed ? x.to(ScalarType.BFloat16) : x);
        }

        var names = model.named_parameters().ToDictionary(kv => kv.parameter, kv => kv.name, ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);
        var state = optimizer.ExportState(names).ToDictionary(kv => kv.Key, kv => TestTensors.Values(kv.Value), StringComparer.Ordinal);
        foreach (var (name, p) in model.named_parameters())
        {
            state[name] = TestTensors.Values(p);
        }

        return state;
    }

    private static void StepOnce(LeverModel model, IRowMaskedOptimizer optimizer, MiguController migu, Tensor x)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        using (migu.Recording())
        {
            model.call(x).to(ScalarType.Float32).square().mean().backward();
        }

        migu.Step(optimizer);
    }

    private static void AssertSameState(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected)
        {
            Assert.True(values.SequenceEqual(actual[name]), $"{name} differs");
        }
    }

    /// <summary>Weights of one shape (w, v: 24×24) apart, with a 24→40→24 pair and biases between them.</summary>
    private sealed class LeverModel : nn.Module<Tensor, Tensor>
    {
        public const long Width = 24;
        private readonly Projection w;
        private readonly Projection up;
        private readonly Projection down;
        private readonly Projection v;

        public LeverModel()
            : base(nameof(LeverModel))
        {
            w = new Projection(Width, Width, kind: ProjectionKind.Query);
            up = new Projection(Width, 40, kind: ProjectionKind.FeedForwardUp);
            down = new Projection(40, Width, hasBias: false, kind: ProjectionKind.FeedForwardDown);
            v = new Projection(Width, Width, hasBias: false, kind: ProjectionKind.Value);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            Tensor h = tanh(w.call(input));
            h = h.add(down.call(tanh(up.call(h))));
            return v.call(h);
        }
    }
}
