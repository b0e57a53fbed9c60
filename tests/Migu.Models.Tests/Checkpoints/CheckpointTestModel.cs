using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Checkpoints;

/// <summary>A two-projection module whose state-dict keys look like a transformer's.</summary>
internal sealed class CheckpointTestModel : LanguageModel
{
    private readonly Projection proj;
    private readonly Projection head;

    public CheckpointTestModel(long width = 4)
        : base(nameof(CheckpointTestModel))
    {
        proj = new Projection(width, width, kind: ProjectionKind.Query);
        head = new Projection(width, 3, hasBias: false, kind: ProjectionKind.Head);
        RegisterComponents();
    }

    public override ModelFamily Family => Migu.Models.Llama.LlamaFamily.Instance;

    public override long VocabSize => 3;

    public override string ConfigJson => "{\"model_type\": \"test\"}";

    public override IReadOnlyDictionary<string, string[]>? CheckpointAliases =>
        new Dictionary<string, string[]> { ["head.weight"] = ["lm_head.weight"] };

    public override bool IsIgnorableCheckpointKey(string key) => key.EndsWith(".inv_freq", StringComparison.Ordinal);

    public override bool IsTiedCopy(string name) => false;

    public override ModelOutput forward(ModelBatch batch) => new(head.call(proj.call(batch.InputIds)), null);

    public override Tensor Generate(Tensor inputIds, Tensor? attentionMask, int maxNewTokens) =>
        throw new NotSupportedException();
}
