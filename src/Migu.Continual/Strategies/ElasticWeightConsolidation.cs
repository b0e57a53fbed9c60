using Migu.Continual.Training;
using Migu.Models;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Migu.Continual.Strategies;

/// <summary>
/// Fine-tuning with elastic weight consolidation (online form): after each task the diagonal
/// empirical Fisher F (mean of squared per-example gradients over a seeded sample of the task's
/// training examples) is added to the running F, and the anchor θ* becomes the current weights.
/// Later tasks add (λ/2)·Σ F·(θ − θ*)² to the loss.
/// </summary>
public sealed class ElasticWeightConsolidation(LanguageModel model, bool freezeEmbeddings, double lambda, int fisherSamples)
    : FullFineTuning(model, freezeEmbeddings)
{
    private const string StateFile = "ewc.safetensors";
    private readonly Dictionary<string, Tensor> fisher = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> anchor = new(StringComparer.Ordinal);

    public override string Name => "ewc";

    /// <summary>The running Fisher of a parameter, null before the first task ended.</summary>
    public Tensor? FisherOf(string parameterName) => fisher.GetValueOrDefault(parameterName);

    public override Tensor? ExtraLoss(int taskIndex)
    {
        if (fisher.Count == 0 || lambda == 0)
        {
            return null;
        }

        using var scope = NewDisposeScope();
        Tensor? total = null;
        foreach (var (name, p) in Model.named_parameters())
        {
            if (p.requires_grad && fisher.TryGetValue(name, out Tensor? f))
            {
                Tensor term = f.mul(p.sub(anchor[name]).square()).sum();
                total = total is null ? term : total.add(term);
            }
        }

        return total?.mul(lambda / 2).MoveToOuterDisposeScope();
    }

    public override void EndTask(TaskEndContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var parameters = Model.named_parameters().Where(np => np.parameter.requires_grad).ToList();
        int n = Math.Min(fisherSamples, context.TrainCount);
        if (n == 0)
        {
            return;
        }

        var random = new Shuffler(Seeds.Derive(context.Seed, SeedPurpose.FisherSample, context.TaskIndex));
        int[] order = [.. Enumerable.Range(0, context.TrainCount)];
        random.Shuffle(order);
        bool wasTraining = Model.training;
        Model.eval(); // the Fisher of the deterministic model: no dropout
        var sums = parameters.ToDictionary(np => np.name, np => zeros_like(np.parameter, dtype: ScalarType.Float32), StringComparer.Ordinal);
        try
        {
            foreach (int i in order.Take(n))
            {
                using var scope = NewDisposeScope();
                foreach (var (_, p) in parameters)
                {
                    p.grad?.zero_();
                }

                context.Loss([i]).backward();
                using var noGrad = no_grad();
                foreach (var (name, p) in parameters)
                {
                    if (p.grad is Tensor g)
                    {
                        sums[name].addcmul_(g, g, 1.0 / n);
                    }
                }
            }
        }
        finally
        {
            foreach (var (_, p) in parameters)
            {
                p.grad?.zero_();
            }

            Model.train(wasTraining);
        }

        using (no_grad())
        {
            foreach (var (name, p) in parameters)
            {
                Tensor f = sums[name];
                f.DetachFromDisposeScope();
                if (fisher.Remove(name, out Tensor? old))
                {
                    f.add_(old);
                    old.Dispose();
                }

                fisher[name] = f;
                Replace(anchor, name, p.detach().clone());
            }
        }
    }

    public override void SaveCheckpoint(string directory)
    {
        base.SaveCheckpoint(directory);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, f) in fisher)
        {
            state["fisher." + name] = f;
            state["anchor." + name] = anchor[name];
        }

        Migu.Core.IO.AtomicFile.Write(Path.Combine(directory, StateFile), temp => Safetensors.SaveStateDict(temp, state));
    }

    public override void LoadCheckpoint(string directory)
    {
        base.LoadCheckpoint(directory);
        string path = Path.Combine(directory, StateFile);
        if (!File.Exists(path))
        {
            return; // saved before any Fisher existed
        }

        Device device = Model.parameters().First().device;
        foreach (var (key, t) in Safetensors.LoadStateDict(path))
        {
            Tensor onDevice = t.to(device);
            onDevice.DetachFromDisposeScope();
            if (!ReferenceEquals(onDevice, t))
            {
                t.Dispose();
            }

            string name = key[(key.IndexOf('.', StringComparison.Ordinal) + 1)..];
            Replace(key.StartsWith("fisher.", StringComparison.Ordinal) ? fisher : anchor, name, onDevice);
        }
    }

    protected override void Dispose(bool disposing)
    {
        foreach (Tensor t in fisher.Values.Concat(anchor.Values))
        {
            t.Dispose();
        }

        fisher.Clear();
        anchor.Clear();
        base.Dispose(disposing);
    }

    private static void Replace(Dictionary<string, Tensor> map, string name, Tensor value)
    {
        value.DetachFromDisposeScope();
        if (map.Remove(name, out Tensor? old))
        {
            old.Dispose();
        }

        map[name] = value;
    }
}
