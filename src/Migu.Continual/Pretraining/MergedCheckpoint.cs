using Migu.Core;
using Migu.Core.IO;
using Migu.Core.Lora;
using Migu.Models;
using Migu.Models.Checkpoints;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// Writes a model as a Hugging Face checkpoint that needs nothing else: config.json and
/// model.safetensors with every active, unmerged LoRA adapter added into its weight (W + s·B·A,
/// computed on the side, so the live model and its adapters are not touched), plus tokenizer files.
/// What end tasks fine-tune from, and what transformers loads.
/// </summary>
public static class MergedCheckpoint
{
    /// <summary>Writes into <paramref name="directory"/> (created); the config last, so a directory with config.json is whole.</summary>
    public static void Save(LanguageModel model, LoraAdapters? lora, string tokenizerDirectory, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in StateDictBinder.Targets(model))
        {
            if (!model.IsTiedCopy(name))
            {
                state[name] = t;
            }
        }

        foreach (LoraLayer layer in lora?.Layers ?? [])
        {
            var unmerged = layer.Active.Where(a => !a.Merged).ToList();
            if (unmerged.Count == 0)
            {
                continue;
            }

            string key = layer.ModuleName.Length == 0 ? "weight" : layer.ModuleName + ".weight";
            if (!state.TryGetValue(key, out Tensor? weight) || !ReferenceEquals(weight, layer.Projection.Weight))
            {
                throw new MiguUserException($"LoRA on '{layer.ModuleName}': its weight is saved under another name (a tied weight); it cannot be merged into a checkpoint");
            }

            Tensor merged = weight.detach().clone();
            foreach (LoraAdapter adapter in unmerged)
            {
                merged.add_(adapter.DeltaWeight().to(merged.dtype));
            }

            state[key] = merged;
        }

        PretrainingTokenizer.CopyFiles(tokenizerDirectory, directory);
        StateDictFiles.Save(directory, state);
        AtomicFile.WriteAllText(Path.Combine(directory, ModelCheckpoint.ConfigFile), model.ConfigJson);
    }
}
