namespace Migu.Continual.Pretraining;

/// <summary>One domain of continual pre-training: a name (what tables and checkpoints call it) and where its text is.</summary>
public sealed record CorpusSpec
{
    /// <summary>The domain's name; checkpoints are checkpoints/task-NN-NAME.</summary>
    public required string Name { get; init; }

    /// <summary>A text file (a document a line), a JSON Lines file (a <c>text</c> or <c>sentence</c> field), a CL_Benchmark split file or dataset folder, or a folder of such files.</summary>
    public required string Path { get; init; }
}
