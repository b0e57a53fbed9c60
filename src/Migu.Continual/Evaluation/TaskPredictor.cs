using Migu.Continual.Recipes;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Models;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Evaluation;

/// <summary>
/// The model's answers to a task's prompts, in eval mode without gradients: greedy generation
/// (decoded text) or label ranking (the label whose tokens, EOS included, are most likely after
/// the prompt; ties go to the earlier label).
/// </summary>
public sealed class TaskPredictor(LanguageModel model, ExampleEncoder encoder, EvalSettings settings, Device device)
{
    /// <summary>
    /// Refuses a label this predictor could never answer, which would silently score zero: one the
    /// answer budget cuts (training.max_target_length: the model learns, and ranking scores, the cut
    /// label) or, when generating, one with more tokens than eval.max_new_tokens lets it write.
    /// </summary>
    public void CheckLabels(string task, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        foreach (string label in labels)
        {
            int needed = encoder.TargetTokens(label);
            if (needed > encoder.MaxTargetLength)
            {
                throw new MiguUserException(
                    $"training.max_target_length {encoder.MaxTargetLength} cannot hold label '{label}' of task {task} ({needed} tokens with EOS); raise --max-target-len");
            }

            // Generation stops at EOS or after max_new_tokens; the label's own tokens must fit (EOS may be cut off).
            if (settings.Mode == EvalMode.Generate && needed - 1 > settings.MaxNewTokens)
            {
                throw new MiguUserException(
                    $"eval.max_new_tokens {settings.MaxNewTokens} cannot generate label '{label}' of task {task} ({needed - 1} tokens); raise eval.max_new_tokens, or score with --eval rank");
            }
        }
    }

    /// <summary>One prediction per prompt, in order; <paramref name="progress"/> gets the number of prompts done.</summary>
    public IReadOnlyList<string> Predict(IReadOnlyList<string> prompts, IReadOnlyList<string> labels, Action<int>? progress = null) =>
        [.. Run(prompts, labels, progress, _ => true).Select(a => a!)];

    /// <summary>
    /// The answers of rank <paramref name="rank"/>'s share (data-parallel evaluation), by prompt index:
    /// batch k of <see cref="Predict"/>'s batches belongs to rank k mod <paramref name="worldSize"/>, so
    /// every batch, and therefore every answer, is the one a single process computes.
    /// </summary>
    public IReadOnlyDictionary<int, string> PredictShard(
        IReadOnlyList<string> prompts, IReadOnlyList<string> labels, int rank, int worldSize, Action<int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        string?[] answers = Run(prompts, labels, progress, batch => batch % worldSize == rank);
        return Enumerable.Range(0, answers.Length).Where(i => answers[i] is not null).ToDictionary(i => i, i => answers[i]!);
    }

    private string?[] Run(IReadOnlyList<string> prompts, IReadOnlyList<string> labels, Action<int>? progress, Func<int, bool> owns)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            return settings.Mode == EvalMode.Rank ? Rank(prompts, labels, progress, owns) : Generate(prompts, progress, owns);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private string?[] Generate(IReadOnlyList<string> prompts, Action<int>? progress, Func<int, bool> owns)
    {
        int[][] sources = [.. prompts.Select(encoder.EncodePrompt)];
        var answers = new string?[prompts.Count];
        int done = 0;
        // Prompts of similar length share a batch (less padding); answers go back to their places.
        int[] order = [.. Enumerable.Range(0, prompts.Count).OrderBy(i => sources[i].Length)];
        var chunks = BatchPlan.Sequential(order.Length, settings.Batch).Select(b => b.Select(i => order[i]).ToArray());
        foreach (int[] chunk in chunks.Where((_, k) => owns(k)))
        {
            using var scope = NewDisposeScope();
            var rows = chunk.Select(i => (IReadOnlyList<int>)sources[i]).ToList();
            PaddingSide side = encoder.DecoderOnly ? PaddingSide.Left : PaddingSide.Right;
            using TokenBatch batch = TokenBatch.Create(rows, encoder.Pad, side, device: device);
            Tensor output = model.Generate(batch.InputIds, batch.AttentionMask, settings.MaxNewTokens).cpu();
            long skip = encoder.DecoderOnly ? batch.InputIds.shape[1] : 1; // the prompt, or T5's start token
            for (int r = 0; r < chunk.Length; r++)
            {
                long[] row = output[r].data<long>().ToArray();
                var fresh = row.Skip((int)skip).Select(v => (int)v).TakeWhile(id => id != encoder.Eos);
                answers[chunk[r]] = encoder.Tokenizer.Decode(fresh, skipSpecialTokens: true);
            }

            done += chunk.Length;
            progress?.Invoke(done);
        }

        return answers;
    }

    private string?[] Rank(IReadOnlyList<string> prompts, IReadOnlyList<string> labels, Action<int>? progress, Func<int, bool> owns)
    {
        if (labels.Count == 0)
        {
            throw new MiguUserException("rank evaluation needs the task's labels");
        }

        int[][] targets = [.. labels.Select(encoder.EncodeTarget)];
        var answers = new string?[prompts.Count];
        // Each (prompt, label) pair is one sequence; a batch holds whole prompts' label sets.
        int promptsPerBatch = Math.Max(1, settings.Batch / labels.Count);
        int done = 0;
        foreach (int[] chunk in BatchPlan.Sequential(prompts.Count, promptsPerBatch).Where((_, k) => owns(k)))
        {
            using var scope = NewDisposeScope();
            var pairs = new List<EncodedExample>(chunk.Length * labels.Count);
            foreach (int i in chunk)
            {
                int[] source = encoder.EncodePrompt(prompts[i]);
                pairs.AddRange(targets.Select(t => new EncodedExample(source, t)));
            }

            float[] scores = SequenceScores.LogLikelihoods(model, encoder, pairs, device);
            for (int c = 0; c < chunk.Length; c++)
            {
                int best = 0;
                for (int l = 1; l < labels.Count; l++)
                {
                    if (scores[(c * labels.Count) + l] > scores[(c * labels.Count) + best])
                    {
                        best = l;
                    }
                }

                answers[chunk[c]] = labels[best];
            }

            done += chunk.Length;
            progress?.Invoke(done);
        }

        return answers;
    }
}
