namespace Migu.Continual.Prompts;

/// <summary>
/// Where the example's own text sits in a prompt that <see cref="PromptBuilder"/> made: the head
/// (task and dataset lines, instruction, options), the body (the sentence) and the tail
/// ("\nAnswer:"). An encoder that must shorten a prompt cuts the body, so the model still sees what
/// the task is, its options, and where the answer goes.
/// </summary>
public static class PromptLayout
{
    public const string Tail = "\nAnswer:";

    private const string OptionsLineEnd = " \n";
    private const string DatasetLine = "\nDataset:";

    /// <summary>(head, body, tail) of <paramref name="prompt"/>, or null when it does not have the builder's layout.</summary>
    public static (string Head, string Body, string Tail)? Split(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (!prompt.StartsWith("Task:", StringComparison.Ordinal) || !prompt.EndsWith(Tail, StringComparison.Ordinal))
        {
            return null;
        }

        int bodyEnd = prompt.Length - Tail.Length;
        int options = prompt.IndexOf("\nOption: ", StringComparison.Ordinal);
        int bodyStart;
        if (options >= 0)
        {
            int end = prompt.IndexOf(OptionsLineEnd, options, StringComparison.Ordinal);
            if (end < 0 || end + OptionsLineEnd.Length > bodyEnd)
            {
                return null;
            }

            bodyStart = end + OptionsLineEnd.Length;
        }
        else
        {
            // Multiple-choice prompts: the body follows the dataset line.
            int dataset = prompt.IndexOf(DatasetLine, StringComparison.Ordinal);
            int end = dataset < 0 ? -1 : prompt.IndexOf('\n', dataset + DatasetLine.Length);
            if (end < 0 || end + 1 > bodyEnd)
            {
                return null;
            }

            bodyStart = end + 1;
        }

        return (prompt[..bodyStart], prompt[bodyStart..bodyEnd], Tail);
    }
}
