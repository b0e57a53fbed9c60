using Migu.Core;

namespace Migu.Continual.Analysis;

/// <summary>A linear layer of a model under its Hugging Face module name.</summary>
internal sealed record AnalysisLayer(string Name, Projection Projection)
{
    public ProjectionKind Kind => Projection.Kind;
}
