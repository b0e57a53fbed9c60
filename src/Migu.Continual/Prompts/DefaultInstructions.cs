namespace Migu.Continual.Prompts;

/// <summary>
/// The instructions a prompt carries when the user's instruction file has none for a task, keyed
/// by the CL_Benchmark task type (the folder above the dataset). Our own wording. Each ends with a
/// newline so the option line starts a line of its own. COPA has none: its prompt is the
/// sentence alone (<see cref="PromptBuilder"/>).
/// </summary>
internal static class DefaultInstructions
{
    /// <summary>For a type that is not listed.</summary>
    public const string Generic = "Read the text below and reply with one of the options.\n";

    public static IReadOnlyDictionary<string, string> ByType { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["TC"] = "Which topic is the text below about? Reply with one of the options.\n",
        ["SC"] = "Which sentiment does the text below express? Reply with one of the options.\n",
        ["NLI"] = "How does the second sentence relate to the first one? Reply with one of the options.\n",
        ["QQP"] = "Do the two questions below ask for the same thing? Reply with one of the options.\n",
        ["BoolQA"] = "Read the passage, then say whether the answer to the question is true or false. Reply with one of the options.\n",
        ["QA"] = "Read the passage, then answer the question. Reply with one of the options.\n",
        ["WiC"] = "Does the given word carry the same meaning in both sentences? Reply with one of the options.\n",
        ["MultiRC"] = "Given the passage and the question, is the proposed answer correct? Reply with one of the options.\n",
    };
}
