using Migu.Continual.Runs;
using Migu.Continual.Training;

namespace Migu.Continual.Tests;

/// <summary>Small deterministic tasks whose answer is a word of the prompt, so a tiny model can learn them in a few steps.</summary>
internal static class SyntheticTasks
{
    public static LoadedTask Make(string name, string[] labels, int train, int test, int seed)
    {
        var random = new Random(seed);
        string[] fillers = ["today", "again", "here", "now", "quickly", "slowly", "once more"];
        TextPair Example()
        {
            string label = labels[random.Next(labels.Length)];
            string sentence = $"the {name} said {label} {fillers[random.Next(fillers.Length)]}";
            return new TextPair($"Task:{name}\nOption: {string.Join(", ", labels)} \n{sentence}\nAnswer:", label);
        }

        return new LoadedTask(name, labels, [.. Enumerable.Range(0, train).Select(_ => Example())], [.. Enumerable.Range(0, test).Select(_ => Example())]);
    }

    public static IReadOnlyList<LoadedTask> Two(int train = 24, int test = 8) =>
    [
        Make("colors", ["red", "blue", "green"], train, test, 1),
        Make("animals", ["cat", "dog"], train, test, 2),
    ];
}
