using System.Diagnostics;
using System.Globalization;

namespace Migu.Benchmarks;

/// <summary>
/// MIGU's overhead as a ratio that survives a noisy machine. Off and gradient-mode steps alternate
/// on one model (MIGU switched off and on), so both see the same memory and machine state; the
/// update-mode model (whose optimizer keeps per-row state) runs in the same rotation. Medians
/// ignore the odd stall. Prints a Markdown table.
/// </summary>
internal static class InterleavedOverhead
{
    private static readonly string[] Modes = ["off", "gradient", "update"];

    public static void Run(int steps)
    {
        Console.WriteLine("| width | step ms, MIGU off | gradient mode | overhead | update mode | overhead |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (int width in new[] { 512, 1024 })
        {
            using var gradient = new MiguStepBenchmark { Width = width, Migu = "gradient" };
            using var update = new MiguStepBenchmark { Width = width, Migu = "update" };
            gradient.Setup();
            update.Setup();
            var times = Modes.Select(_ => new List<double>()).ToArray();
            for (int s = -3; s < steps; s++) // three warm-up rounds
            {
                for (int i = 0; i < Modes.Length; i++)
                {
                    MiguStepBenchmark bench = i == 2 ? update : gradient;
                    gradient.SetMiguActive(i == 1);
                    long start = Stopwatch.GetTimestamp();
                    bench.Step();
                    if (s >= 0)
                    {
                        times[i].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    }
                }
            }

            double[] median = times.Select(Median).ToArray();
            string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
            string Pct(double v) => (100 * ((v / median[0]) - 1)).ToString("+0.0;-0.0", CultureInfo.InvariantCulture) + "%";
            Console.WriteLine($"| {width} | {F(median[0])} | {F(median[1])} | {Pct(median[1])} | {F(median[2])} | {Pct(median[2])} |");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }
}
