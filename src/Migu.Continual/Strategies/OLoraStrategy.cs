using Migu.Continual.Recipes;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Strategies;

/// <summary>
/// O-LoRA: IncLoRA plus, while task t trains its adapter, λ1·Σ_layers Σ_{old adapters} Σ|A_old·A_newᵀ|
/// (the new adapter's subspace kept orthogonal to the earlier ones) and λ2·Σ_{new A, B} ‖·‖₂.
/// λ1 and λ2 may change per task.
/// </summary>
public sealed class OLoraStrategy(LanguageModel model, LoraSettings settings, long seed, string? baseModel, Func<int, (double Lambda1, double Lambda2)> lambdas)
    : LoraStrategy(model, settings, incremental: true, seed, baseModel)
{
    public override string Name => "olora";

    public override Tensor? ExtraLoss(int taskIndex)
    {
        var (lambda1, lambda2) = lambdas(taskIndex);
        string current = AdapterOf(taskIndex);
        var earlier = Enumerable.Range(0, taskIndex).Select(AdapterOf).ToList();
        if ((lambda1 == 0 || earlier.Count == 0) && lambda2 == 0)
        {
            return null;
        }

        using var scope = NewDisposeScope();
        Tensor total = zeros(1, device: Lora.Weights(current)[0].A.device).squeeze();
        if (lambda1 != 0 && earlier.Count > 0)
        {
            var newA = Lora.Weights(current).ToDictionary(w => w.Module, w => w.A, StringComparer.Ordinal);
            foreach (string old in earlier)
            {
                foreach (var (module, a, _) in Lora.Weights(old))
                {
                    total = total.add(a.detach().mm(newA[module].t()).abs().sum().mul(lambda1)); // (r_old, r_new)
                }
            }
        }

        if (lambda2 != 0)
        {
            foreach (var (_, a, b) in Lora.Weights(current))
            {
                total = total.add(a.norm().add(b.norm()).mul(lambda2));
            }
        }

        return total.MoveToOuterDisposeScope();
    }
}
