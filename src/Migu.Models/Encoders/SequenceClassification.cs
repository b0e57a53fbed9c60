using System.Globalization;
using Migu.Core;
using static TorchSharp.torch;

namespace Migu.Models.Encoders;

/// <summary>
/// What BERT's and RoBERTa's sequence classifiers share with transformers' heads: class names
/// (id2label, else LABEL_i) and the loss (one label per sequence; regression when there is one class).
/// </summary>
public static class SequenceClassification
{
    /// <summary>The name of class <paramref name="index"/>: config.json's id2label, else transformers' LABEL_i.</summary>
    public static string LabelName(IReadOnlyList<string>? id2Label, int index) => id2Label is not null && index < id2Label.Count
        ? id2Label[index]
        : string.Create(CultureInfo.InvariantCulture, $"LABEL_{index}");

    /// <summary>Mean-squared error for one class (regression), else cross-entropy over integer class labels.</summary>
    public static Tensor Loss(Tensor logits, Tensor labels, long numLabels, string family)
    {
        long batch = logits.shape[0];
        if (labels.numel() != batch)
        {
            throw new MiguUserException($"{family} classifier: expected one label per sequence ({batch}), got [{string.Join(", ", labels.shape)}]");
        }

        if (numLabels == 1)
        {
            return nn.functional.mse_loss(logits.reshape(-1), labels.to(logits.dtype, logits.device).reshape(-1));
        }

        if (labels.is_floating_point())
        {
            throw new MiguUserException($"{family} classifier: single-label classification needs integer class labels");
        }

        return nn.functional.cross_entropy(logits, labels.to(ScalarType.Int64, logits.device).reshape(-1));
    }
}
