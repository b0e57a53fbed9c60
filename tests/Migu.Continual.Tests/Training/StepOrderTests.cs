using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Optim;
using Migu.Core.Runtime;
using Migu.Models;
using Migu.Models.Tokenizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Training;

/// <summary>
/// The order of a training step pinned from outside TaskTrainer: masks built once from the magnitudes
/// of all the step's micro-batches, then masked gradients, then clipping, then the optimizer step
/// given update mode's row masks. Each assertion fails for one wrong order (named beside it).
/// </summary>
public sealed class StepOrderTests : IDisposable
{
    private const double ClipNorm = 1e-3; // far below the step's gradient norm, so clipping always acts

    private readonly LanguageModel model;
    private readonly ExampleEncoder encoder;
    private readonly IReadOnlyList<LoadedTask> tasks = SyntheticTasks.Two(train: 16, test: 4);

    public StepOrderTests()
    {
        manual_seed(5);
        (model, ITextTokenizer tokenizer) = ModelLoader.LoadWithTokenizer("llama-tiny", null, CPU);
        encoder = new ExampleEncoder(tokenizer, model.Family, 48, 4);
    }

    public void Dispose() => model.Dispose();

    [Theory]
    [InlineData(MiguMode.Gradient)]
    [InlineData(MiguMode.Update)]
    public void Masks_come_from_every_micro_batch_then_gradients_are_masked_then_clipped_then_stepped(MiguMode mode)
    {
        var options = new MiguOptions { Threshold = 0.5, Mode = mode };
        var plan = new TaskTrainingPlan
        {
            TaskIndex = 0,
            TaskName = tasks[0].Name,
            Data = new EncodedTaskData([.. tasks[0].Train.Select(encoder.Encode)], encoder),
            Batch = 8,
            GradAccum = 2,
            ClipNorm = ClipNorm,
            MaxSteps = 1,
            Seed = 3,
        };
        var (epoch, batch) = plan.Steps()[0];
        int[][] micro = [.. TaskTrainer.Split(batch, plan.GradAccum)];
        Assert.Equal(2, micro.Length);

        // The masks by hand: a controller of its own records the same forward passes (same dropout seeds).
        Dictionary<string, float[]> fromBoth, fromLastOnly;
        using (var reference = new MiguController(model, options))
        {
            fromBoth = ReferenceMasks(reference, plan, epoch, micro, [0, 1]);
            fromLastOnly = ReferenceMasks(reference, plan, epoch, micro, [1]);
        }

        Assert.Contains(fromBoth, m => !m.Value.SequenceEqual(fromLastOnly[m.Key])); // else a per-micro-batch build would go unseen

        IReadOnlyList<Parameter> parameters = [.. model.parameters()];
        using var migu = new MiguController(model, options);
        using var optimizer = new WatchingOptimizer(new RowMaskedAdamW(parameters, 1e-2), migu.Targets);
        new TaskTrainer(model, CPU).Train(plan, optimizer, migu, () => null, 0, _ => { });

        Assert.Equal(1, optimizer.Steps);

        // Built once from both micro-batches (fails if masks are built per micro-batch: the last one's win).
        foreach (MaskTarget target in migu.Targets)
        {
            Assert.Equal(fromBoth[target.Name], Values(migu.MaskOf(target)));
        }

        // Masked before the optimizer sees the gradients: every masked row of every target is zero.
        foreach (MaskTarget target in migu.Targets)
        {
            float[] mask = fromBoth[target.Name];
            float[] rowNorms = optimizer.GradientRowNorms[target.Name];
            Assert.All(Enumerable.Range(0, mask.Length).Where(r => mask[r] == 0), r => Assert.Equal(0f, rowNorms[r]));
            Assert.Contains(Enumerable.Range(0, mask.Length), r => mask[r] == 1 && rowNorms[r] > 0);
        }

        // Clipped after masking: the gradient the optimizer gets has exactly the clip norm. Clipping first
        // and masking after would leave less (the masked rows' share of the clipped norm is gone).
        Assert.InRange(optimizer.GradientNorm, ClipNorm * (1 - 1e-4), ClipNorm * (1 + 1e-4));

        // The step honours update mode's row masks, and gradient mode gives none.
        if (mode == MiguMode.Update)
        {
            Assert.NotNull(optimizer.RowMasks);
            foreach (MaskTarget target in migu.Targets)
            {
                Assert.Equal(fromBoth[target.Name], optimizer.RowMasks![target.Name]);
            }
        }
        else
        {
            Assert.Null(optimizer.RowMasks);
        }
    }

    /// <summary>The masks a controller builds from the forward passes of the given micro-batches of step 0, as the trainer runs them.</summary>
    private Dictionary<string, float[]> ReferenceMasks(MiguController reference, TaskTrainingPlan plan, int epoch, int[][] micro, int[] which)
    {
        model.train();
        reference.Reset();
        using (reference.Recording())
        {
            foreach (int i in which)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                TorchSeed.All(Seeds.Dropout(plan.Seed, plan.TaskIndex, 0, i));
                _ = model.forward(plan.Data.Collate(micro[i], CPU, new BatchDraw(plan.Seed, plan.TaskIndex, epoch)));
            }
        }

        reference.BuildMasks();
        reference.Reset();
        return reference.Targets.ToDictionary(t => t.Name, t => Values(reference.MaskOf(t)));
    }

    private static float[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float32).data<float>().ToArray();

    /// <summary>Records what the optimizer is handed at its step, then steps the real one.</summary>
    private sealed class WatchingOptimizer(RowMaskedAdamW inner, IReadOnlyList<MaskTarget> targets) : IRowMaskedOptimizer
    {
        public int Steps { get; private set; }

        public double GradientNorm { get; private set; }

        public Dictionary<string, float[]> GradientRowNorms { get; } = [];

        public Dictionary<string, float[]>? RowMasks { get; private set; }

        public double LearningRate { get => inner.LearningRate; set => inner.LearningRate = value; }

        public IReadOnlyList<Parameter> Parameters => inner.Parameters;

        public void Step(IReadOnlyDictionary<Parameter, Tensor>? rowMasks)
        {
            using (var scope = NewDisposeScope())
            {
                Steps++;
                GradientNorm = Math.Sqrt(Parameters.Where(p => p.grad is not null).Sum(p => p.grad!.to(ScalarType.Float64).square().sum().item<double>()));
                foreach (MaskTarget t in targets)
                {
                    GradientRowNorms[t.Name] = Values(t.Weight.grad!.abs().sum(1));
                }

                RowMasks = rowMasks is null ? null : targets.ToDictionary(t => t.Name, t => Values(rowMasks[t.Weight].flatten()));
            }

            inner.Step(rowMasks);
        }

        public void ZeroGrad() => inner.ZeroGrad();

        public void Dispose() => inner.Dispose();
    }
}
