using System.Text.Json;
using Migu.Continual.Recipes;

namespace Migu.Distributed.Tests;

/// <summary>
/// Two small tasks written in the CL_Benchmark layout (ROOT/TC/name/{labels,train,test}.json) so
/// that every rank of a job reads them from disk as `migu run --data ROOT` does; and recipes over them.
/// </summary>
internal static class TaskFiles
{
    public static string Write(string root)
    {
        WriteTask(root, "colors", ["red", "blue", "green"], seed: 1);
        WriteTask(root, "animals", ["cat", "dog"], seed: 2);
        return root;
    }

    /// <summary>A llama-tiny fine-tuning run with MIGU from the first task, ranked evaluation in batches small enough to be shared.</summary>
    public static Recipe LlamaFt(string dataRoot, int batch, int gradAccum) => new()
    {
        Data = dataRoot,
        Tasks = ["colors", "animals"],
        Model = "llama-tiny",
        Method = "ft",
        Migu = new Migu.Core.MiguOptions { Threshold = 0.5, SkipFirstTask = false },
        Training = new TrainingSettings { Lr = 3e-3, Batch = batch, GradAccum = gradAccum, MaxSourceLength = 64, MaxTargetLength = 8 },
        Eval = new EvalSettings { Mode = EvalMode.Rank, Batch = 4 },
        Seed = 3,
    };

    /// <summary>A t5-tiny LoRA run with adapter dropout, MIGU in update mode and generated answers.</summary>
    public static Recipe T5Lora(string dataRoot, int batch, int gradAccum) => LlamaFt(dataRoot, batch, gradAccum) with
    {
        Model = "t5-tiny",
        Method = "lora",
        Lora = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0.1, Targets = "all" },
        Migu = new Migu.Core.MiguOptions { Threshold = 0.5, Mode = Migu.Core.MiguMode.Update, SkipFirstTask = false },
        Eval = new EvalSettings { Mode = EvalMode.Generate, Batch = 3, MaxNewTokens = 4 },
    };

    public static string Save(Recipe recipe, string path)
    {
        File.WriteAllText(path, RecipeJson.Serialize(recipe));
        return path;
    }

    private static void WriteTask(string root, string name, string[] labels, int seed)
    {
        var random = new Random(seed);
        string[] fillers = ["today", "again", "here", "now", "quickly", "slowly", "once more"];
        object Example()
        {
            string label = labels[random.Next(labels.Length)];
            return new { sentence = $"the {name} said {label} {fillers[random.Next(fillers.Length)]}", label };
        }

        string dir = Directory.CreateDirectory(Path.Combine(root, "TC", name)).FullName;
        File.WriteAllText(Path.Combine(dir, "labels.json"), JsonSerializer.Serialize(labels));
        File.WriteAllText(Path.Combine(dir, "train.json"), JsonSerializer.Serialize(Enumerable.Range(0, 24).Select(_ => Example()).ToArray()));
        File.WriteAllText(Path.Combine(dir, "test.json"), JsonSerializer.Serialize(Enumerable.Range(0, 8).Select(_ => Example()).ToArray()));
    }
}
