using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Reports.Tests;

/// <summary>
/// A small hand-made study on three tasks: ft (2 seeds), ft+MIGU at T = 0.7 (3 seeds) and 0.5 (1
/// seed), lora+MIGU in update mode (one seed still running) and the multi-task bound. Its numbers
/// are chosen so the table can be checked by hand.
/// </summary>
internal static class SampleStudy
{
    public static readonly string[] Tasks = ["dbpedia", "amazon", "yahoo"];

    private static readonly double[] Baseline = [0.05, 0.1, 0.0];

    /// <summary>Writes the study's run directories into <paramref name="store"/> and returns them.</summary>
    public static List<string> Write(RunStoreBuilder store)
    {
        var dirs = new List<string>();
        string loss = RunStoreBuilder.Loss(Tasks, 60);
        var migu = new MiguOptions();

        // ft: forgets a lot.
        dirs.Add(store.AddRun("ft-s1", new Recipe { Tasks = Tasks, Model = "t5-small", Seed = 1 },
            RunStoreBuilder.Metrics(Tasks, [[0.9, 0.2, 0.1], [0.5, 0.9, 0.1], [0.3, 0.6, 0.9]], Baseline, 1800), loss));
        dirs.Add(store.AddRun("ft-s2", new Recipe { Tasks = Tasks, Model = "t5-small", Seed = 2 },
            RunStoreBuilder.Metrics(Tasks, [[0.9, 0.2, 0.1], [0.6, 0.9, 0.1], [0.4, 0.7, 0.9]], Baseline, 1800), loss));

        // ft+MIGU at T = 0.7: last rows average 0.70, 0.74, 0.78 (ACC 74.0 ± 4.0); the diagonal is 0.9,
        // so BWT = ((a20 − 0.9) + (a21 − 0.9)) / 2 = −0.25, −0.21, −0.17 (−21.0 ± 4.0).
        double[][] lastRows = [[0.6, 0.7, 0.8], [0.64, 0.74, 0.84], [0.68, 0.78, 0.88]];
        for (int s = 0; s < 3; s++)
        {
            dirs.Add(store.AddRun($"ft-migu-s{s + 1}", new Recipe { Tasks = Tasks, Model = "t5-small", Seed = s + 1, Migu = migu },
                RunStoreBuilder.Metrics(Tasks, [[0.9, 0.2, 0.1], [0.8, 0.9, 0.1], lastRows[s]], Baseline, 1900), loss));
        }

        dirs.Add(store.AddRun("ft-migu-t0.5-s1", new Recipe { Tasks = Tasks, Model = "t5-small", Seed = 1, Migu = migu with { Threshold = 0.5 } },
            RunStoreBuilder.Metrics(Tasks, [[0.9, 0.2, 0.1], [0.7, 0.9, 0.1], [0.5, 0.7, 0.9]], Baseline, 1900), loss));

        var lora = new Recipe { Tasks = Tasks, Model = "t5-small", Method = "lora", Migu = migu with { Mode = MiguMode.Update } };
        dirs.Add(store.AddRun("lora-migu-s1", lora with { Seed = 1 },
            RunStoreBuilder.Metrics(Tasks, [[0.8, 0.2, 0.1], [0.75, 0.85, 0.1], [0.7, 0.8, 0.85]], Baseline, 1200), loss));
        dirs.Add(store.AddRun("lora-migu-s2", lora with { Seed = 2 },
            RunStoreBuilder.Metrics(Tasks, [[0.8, 0.2, 0.1]], Baseline, 400), RunStoreBuilder.Loss(Tasks[..1], 60)));

        dirs.Add(store.AddRun("mtl-s1", new Recipe { Tasks = Tasks, Model = "t5-small", Method = "mtl", Seed = 1 },
            RunStoreBuilder.JointMetrics(Tasks, [0.92, 0.88, 0.9]), loss: null));
        return dirs;
    }
}
