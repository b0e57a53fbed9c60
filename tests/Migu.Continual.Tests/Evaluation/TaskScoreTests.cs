using Migu.Continual.Evaluation;

namespace Migu.Continual.Tests.Evaluation;

public sealed class TaskScoreTests
{
    private static readonly string[] Labels = ["A", "B", "C"];

    // i0 A→A right; i1 A→"b" (B after normalisation) wrong; i2 B→B right; i3 B→"zzz" (no label) wrong; i4 C→A wrong.
    private static readonly string[] References = ["A", "A", "B", "B", "C"];
    private static readonly string[] Predictions = ["a.", "b", "B", "zzz", "A"];

    [Fact]
    public void Accuracy_is_the_share_of_normalised_exact_matches()
    {
        Assert.Equal(0.4, ExactMatch.Accuracy(Predictions, References), 12);
    }

    [Fact]
    public void Macro_f1_counts_an_answer_outside_the_labels_as_wrong_for_every_class()
    {
        // A: TP 1, FP 1 (i4), FN 1 (i1) → 0.5.  B: TP 1, FP 1 (i1), FN 1 (i3, "zzz" is no class's FP) → 0.5.
        // C: TP 0, FN 1 → 0.  Mean 1/3.
        Assert.Equal(1.0 / 3, MacroF1.Compute(Predictions, References, Labels), 12);
    }

    [Fact]
    public void A_label_never_seen_nor_predicted_is_left_out_of_the_mean()
    {
        Assert.Equal(1.0 / 3, MacroF1.Compute(Predictions, References, ["A", "B", "C", "D"]), 12);
    }

    [Fact]
    public void A_label_predicted_but_never_the_reference_scores_zero()
    {
        // i1 (reference A) now predicts D, a label with no reference.
        // A: TP 1, FP 1 (i4), FN 1 (i1) → 0.5.  B: TP 1, FN 1 (i3) → 2/3.  C: FN 1 → 0.  D: FP 1 → 0.  Mean 7/24.
        string[] predictions = ["A", "D", "B", "zzz", "A"];

        Assert.Equal(7.0 / 24, MacroF1.Compute(predictions, References, ["A", "B", "C", "D"]), 12);
    }

    [Fact]
    public void All_right_is_one_and_all_outside_the_labels_is_zero()
    {
        Assert.Equal(1.0, MacroF1.Compute(References, References, Labels));
        Assert.Equal(0.0, MacroF1.Compute(["x", "y", "z", "w", "v"], References, Labels));
    }

    [Fact]
    public void A_task_score_carries_both_measures_and_the_count()
    {
        // Accuracy 2 of 5; macro-F1 (0.5 + 0.5 + 0) / 3, counted by hand above.
        TaskScore score = TaskScore.Of(Predictions, References, Labels);

        Assert.Equal(0.4, score.Accuracy, 12);
        Assert.Equal(1.0 / 3, score.MacroF1, 12);
        Assert.Equal(5, score.Count);
    }

    [Fact]
    public void Accuracy_and_macro_f1_go_to_their_own_fields()
    {
        // Every answer is A: accuracy 2/5; F1(A) = 2·2/(2·2 + 3 + 0) = 4/7, B and C score 0, so macro-F1 = 4/21.
        // The two measures differ, so a score that swapped them would fail.
        TaskScore score = TaskScore.Of(["A", "A", "A", "A", "A"], References, Labels);

        Assert.Equal(0.4, score.Accuracy, 12);
        Assert.Equal(4.0 / 21, score.MacroF1, 12);
    }

    [Fact]
    public void Mismatched_or_empty_inputs_are_caller_bugs()
    {
        Assert.Throws<ArgumentException>(() => ExactMatch.Accuracy(["A"], ["A", "B"]));
        Assert.Throws<ArgumentException>(() => ExactMatch.Accuracy([], []));
        Assert.Throws<ArgumentException>(() => MacroF1.Compute(["A"], ["Z"], Labels));
    }
}
