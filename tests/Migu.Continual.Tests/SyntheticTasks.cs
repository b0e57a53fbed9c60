using Migu.Continual.Data;
using Migu.Continual.Prompts;
using Migu.Continual.Runs;

namespace Migu.Continual.Tests;

/// <summary>Small deterministic tasks whose answer is a word of the sentence, so a tiny model can learn them in a few steps.</summary>
internal static class SyntheticTasks
{
    public static TaskData Data(string name, string[] labels, int train, int test, int seed)
    {
        var random = new Random(seed);
        string[] fillers = ["today", "again", "here", "now", "quickly", "slowly", "once more"];
        Example Example()
        {
            string label = labels[random.Next(labels.Length)];
            return new Example($"the {name} said {label} {fillers[random.Next(fillers.Length)]}", label);
        }

        return new TaskData
        {
            Name = name,
            Type = "TC",
            Labels = labels,
            Train = [.. Enumerable.Range(0, train).Select(_ => Example())],
            Test = [.. Enumerable.Range(0, test).Select(_ => Example())],
            Location = $"synthetic/{name}",
        };
    }

    public static IReadOnlyList<LoadedTask> Two(int train = 24, int test = 8) =>
    [
        new(Data("colors", ["red", "blue", "green"], train, test, 1), new PromptBuilder()),
        new(Data("animals", ["cat", "dog"], train, test, 2), new PromptBuilder()),
    ];
}
