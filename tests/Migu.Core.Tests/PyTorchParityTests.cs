using System.Text.Json;
using Migu.Core.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Tests;

/// <summary>
/// Against Fixtures/migu_core_golden.json, written by tools/migu_core_golden.py with plain PyTorch
/// (hooks for magnitudes, an independent top-k, torch.quantile, torch.optim.AdamW for gradient
/// mode, a per-row AdamW by hand for update mode). Tolerance: 1e-5 absolute + 1e-4 relative,
/// fp32 on CPU; the differences seen are at float rounding level.
/// </summary>
public class PyTorchParityTests
{
    private const double Atol = 1e-5;
    private const double Rtol = 1e-4;

    private static readonly JsonElement Golden = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "migu_core_golden.json"))).RootElement;

    [Theory]
    [InlineData(MiguMode.Gradient, "gradient")]
    [InlineData(MiguMode.Update, "update")]
    public void Magnitudes_masks_and_weights_match_PyTorch(MiguMode mode, string key)
    {
        double t = Golden.GetProperty("threshold").GetDouble();
        double[] betas = Doubles(Golden.GetProperty("betas"));
        using var model = new TinyMlp(Golden.GetProperty("d_in").GetInt64(), 16);
        Load(model, Golden.GetProperty("initial"));
        using var optimizer = new RowMaskedAdamW(model.parameters(), Golden.GetProperty("lr").GetDouble(), betas[0], betas[1],
            Golden.GetProperty("eps").GetDouble(), Golden.GetProperty("weight_decay").GetDouble());
        using var migu = new MiguController(model, new MiguOptions { Threshold = t, Mode = mode });
        var batches = Golden.GetProperty("batches").EnumerateArray().ToArray();

        migu.BeginTask(0); // step 1: no MIGU
        double loss1 = TrainStep(model, migu, optimizer, batches[0], beforeStep: null);
        AssertLossClose(Golden.GetProperty("loss1").GetDouble(), loss1, "step 1");
        AssertState(model, Golden.GetProperty("after_step1"), "after step 1");

        migu.BeginTask(1);
        var steps = Golden.GetProperty("masked_steps").EnumerateArray().ToArray();
        for (int s = 0; s < steps.Length; s++)
        {
            JsonElement expected = steps[s].GetProperty(key);
            double loss = TrainStep(model, migu, optimizer, batches[s + 1], beforeStep: () =>
            {
                foreach (MaskTarget target in migu.Targets)
                {
                    string layer = target.Name[..^".weight".Length];
                    using Tensor n = migu.MagnitudesOf(target);
                    TestTensors.AssertClose(Doubles(expected.GetProperty("magnitudes").GetProperty(layer)), TestTensors.Values(n), Atol, Rtol, $"step {s + 2} {layer} magnitudes");
                    if (expected.TryGetProperty("quantile_masks", out JsonElement quantile))
                    {
                        using Tensor q = MaskBuilder.Quantile(n.unsqueeze(0), t);
                        Assert.Equal(Doubles(quantile.GetProperty(layer)).Select(v => (float)v), TestTensors.Values(q));
                    }
                }
            });
            AssertLossClose(expected.GetProperty("loss").GetDouble(), loss, $"step {s + 2}");
            foreach (MaskTarget target in migu.Targets)
            {
                string layer = target.Name[..^".weight".Length];
                using Tensor mask = migu.MaskOf(target);
                Assert.Equal(Doubles(expected.GetProperty("masks").GetProperty(layer)).Select(v => (float)v), TestTensors.Values(mask));
            }

            AssertState(model, expected.GetProperty("after"), $"{key} mode after step {s + 2}");
        }
    }

    /// <summary>fp32 losses agree to the same tolerance as the tensors (a fixed number of decimals is too tight near 27).</summary>
    private static void AssertLossClose(double expected, double actual, string where) =>
        Assert.True(Math.Abs(expected - actual) <= Atol + (Rtol * Math.Abs(expected)), $"{where}: loss {actual} vs PyTorch {expected}");

    private static double TrainStep(TinyMlp model, MiguController migu, RowMaskedAdamW optimizer, JsonElement batch, Action? beforeStep)
    {
        long b = Golden.GetProperty("batch").GetInt64();
        long s = Golden.GetProperty("seq").GetInt64();
        long d = Golden.GetProperty("d_in").GetInt64();
        using var scope = NewDisposeScope();
        Tensor x = tensor(Floats(batch.GetProperty("x"))).reshape(b, s, d);
        Tensor mask = tensor(Floats(batch.GetProperty("mask"))).reshape(b, s);
        Tensor target = tensor(Floats(batch.GetProperty("target"))).reshape(b, s, d);
        optimizer.ZeroGrad();
        Tensor loss;
        using (TokenMask.Use(mask))
        using (migu.Recording())
        {
            loss = TestTensors.MaskedMse(model.call(x), target, mask);
        }

        loss.backward();
        beforeStep?.Invoke();
        migu.Step(optimizer);
        return loss.item<float>();
    }

    private static void Load(TinyMlp model, JsonElement state)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            using Tensor values = tensor(Floats(state.GetProperty(name))).reshape(p.shape);
            p.copy_(values);
        }
    }

    private static void AssertState(TinyMlp model, JsonElement state, string when)
    {
        foreach (var (name, p) in model.named_parameters())
        {
            TestTensors.AssertClose(Doubles(state.GetProperty(name)), TestTensors.Values(p), Atol, Rtol, $"{when}: {name}");
        }
    }

    private static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
}
