using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Continual.Data;

/// <summary>
/// The keys (JSON) or columns (CSV, Parquet) that hold an example's text and label:
/// <c>data_options.text_field</c> / <c>label_field</c>, by default <c>sentence</c> — or
/// <c>text</c> where there is no <c>sentence</c>, as many Hugging Face datasets name it — and <c>label</c>.
/// </summary>
internal sealed record TaskFields(string? Text, string? Label)
{
    public static TaskFields Default { get; } = new(null, null);

    /// <summary>The text key or column to use, in order of preference.</summary>
    public IReadOnlyList<string> TextCandidates => Text is null ? ["sentence", "text"] : [Text];

    public string LabelName => Label ?? "label";

    /// <summary>"\"sentence\" (nor \"text\")" or "\"content\"", for a message saying the text is missing.</summary>
    public string MissingText => Text is null ? "\"sentence\" (nor \"text\")" : $"\"{Text}\"";

    public static TaskFields From(DataSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Validate(settings);
        return new TaskFields(settings.TextField, settings.LabelField);
    }

    /// <summary>Checks the two names alone, so a bad recipe fails before any data is read.</summary>
    public static void Validate(DataSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.TextField is { } text && string.IsNullOrWhiteSpace(text))
        {
            throw new MiguUserException("data_options.text_field: empty; name the key or column that holds the text");
        }

        if (settings.LabelField is { } label && string.IsNullOrWhiteSpace(label))
        {
            throw new MiguUserException("data_options.label_field: empty; name the key or column that holds the label");
        }

        if (string.Equals(settings.TextField ?? "sentence", settings.LabelField ?? "label", StringComparison.Ordinal))
        {
            throw new MiguUserException($"data_options: text_field and label_field both name '{settings.LabelField ?? "label"}'");
        }
    }
}

/// <summary>One example as its file holds it, before its label is checked against the task's.</summary>
/// <param name="Sentence">The text.</param>
/// <param name="Label">The label as text; null when the file gives a class id instead.</param>
/// <param name="ClassId">The class id, when <paramref name="Label"/> is null.</param>
/// <param name="Where">The item, line or row, for messages: <c>item 3</c>, <c>line 4</c>, <c>row 2</c>.</param>
internal readonly record struct RawExample(string Sentence, string? Label, long ClassId, string Where);

/// <summary>A split file as read, before its labels are checked against the task's.</summary>
/// <param name="File">The file, as messages name it.</param>
/// <param name="Examples">Every example, in file order.</param>
/// <param name="ClassNames">A Parquet file's class names for its label column, from the features Hugging Face datasets writes into the file; else null.</param>
internal sealed record RawSplit(string File, IReadOnlyList<RawExample> Examples, IReadOnlyList<string>? ClassNames = null);
