using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Optim;

/// <summary>An optimizer whose state can go into a checkpoint and come back, so a resumed run continues exactly.</summary>
public interface IStatefulOptimizer : IRowMaskedOptimizer
{
    /// <summary>The state as named tensors (parameters named by <paramref name="names"/>); save them, don't keep them.</summary>
    Dictionary<string, Tensor> ExportState(IReadOnlyDictionary<Parameter, string> names);

    /// <summary>Restores <see cref="ExportState"/>'s tensors.</summary>
    void ImportState(IReadOnlyDictionary<string, Tensor> state, IReadOnlyDictionary<Parameter, string> names);
}
