using Migu.Continual.Runs;
using Migu.Core;
using Migu.Core.Lora;
using Migu.Core.Runtime;
using Migu.Models;
using Migu.Models.Adapters;
using Migu.Models.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Continual.Analysis;

/// <summary>
/// A subject's model ready to be probed: fp32 (magnitudes must not be summed in bf16), eval mode
/// (no dropout), with a run's LoRA adapters attached in task order so each projection's output is
/// the whole layer output, as MIGU ranks a LoRA layer's B.
/// </summary>
internal sealed class AnalysisModel : IDisposable
{
    private readonly LoraAdapters? lora;

    private AnalysisModel(LanguageModel model, ITextTokenizer tokenizer, LoraAdapters? lora)
    {
        Model = model;
        Tokenizer = tokenizer;
        this.lora = lora;
    }

    public LanguageModel Model { get; }

    public ITextTokenizer Tokenizer { get; }

    public static AnalysisModel Load(AnalysisSubject subject, Device device, long seed)
    {
        TorchSeed.All(seed); // a preset's random weights
        var (model, tokenizer) = ModelLoader.LoadWithTokenizer(subject.Model, subject.TokenizerDirectory, device);
        LoraAdapters? lora = null;
        try
        {

            if (model.parameters().Any(p => p.dtype != ScalarType.Float32))
            {
                model.to(ScalarType.Float32);
            }

            if (subject.AdaptersDirectory is string adapters)
            {
                lora = AttachAdapters(model, adapters);
            }

            model.eval();
            return new AnalysisModel(model, tokenizer, lora);
        }
        catch
        {
            lora?.Dispose();
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        lora?.Dispose();
        Model.Dispose();
    }

    /// <summary>Every adapter in the folder, in task order (task1, task2, …, task10), all active as IncLoRA sums them.</summary>
    private static LoraAdapters AttachAdapters(LanguageModel model, string folder)
    {
        var names = Directory.Exists(folder)
            ? Directory.GetDirectories(folder).Select(Path.GetFileName).OfType<string>().OrderBy(n => n.Length).ThenBy(n => n, StringComparer.Ordinal).ToList()
            : [];
        if (names.Count == 0)
        {
            throw new MiguUserException($"{folder}: no adapters");
        }

        LoraAdapters lora = PeftAdapterFiles.Attach(model, Path.Combine(folder, names[0]), names[0]);
        try
        {
            foreach (string name in names.Skip(1))
            {
                PeftAdapterFiles.Load(lora, Path.Combine(folder, name), name);
            }

            return lora;
        }
        catch
        {
            lora.Dispose();
            throw;
        }
    }
}
