using System.CommandLine;
using System.CommandLine.Parsing;
using Migu.Continual.Analysis;
using Migu.Continual.Data;
using Migu.Continual.Recipes;
using Migu.Core;
using Migu.Reports.Analysis;
using Migu.Reports.Charts;
using Migu.Reports.Writing;

namespace Migu.Cli.Commands;

/// <summary>
/// <c>migu analyze</c>: per-task magnitude distributions of one layer and the task × task similarity
/// of magnitude vectors, for one or more checkpoints (e.g. the ends of an FT and an FT+MIGU run)
/// on the same samples; writes analysis.md, analysis.json and figures.
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model") { Description = "Checkpoint directory, cached hub id ORG/NAME[@REV], or preset; repeat to compare", AllowMultipleArgumentsPerToken = false };
        var runs = new Option<string[]>("--run") { Description = "Run directory: its last task's checkpoint (or the newest, if unfinished); repeat to compare", AllowMultipleArgumentsPerToken = false };
        var data = new Option<string?>("--data") { Description = "Task data root (CL_Benchmark layout); default: the first run's data, else the embedded demo stream" };
        var tasks = new Option<string?>("--tasks") { Description = "Tasks to compare, comma-separated; default: the first run's tasks, else the data's default order" };
        var samples = new Option<int>("--samples") { Description = "Examples per task (stratified by label, seeded)", DefaultValueFactory = _ => 64 };
        var split = new Option<string>("--split") { Description = "Split the samples come from: train, dev or test", DefaultValueFactory = _ => "test" };
        var layer = new Option<string?>("--layer") { Description = "Layer whose distributions are plotted: a module name or re:REGEX (first match); default: a middle FFN layer" };
        var layers = new Option<string>("--layers") { Description = "Layers the similarity averages over: all, attention, ffn, q,k,v,o, head, re:REGEX", DefaultValueFactory = _ => "all" };
        var batch = new Option<int>("--batch") { Description = "Examples per forward pass", DefaultValueFactory = _ => 8 };
        var seed = new Option<long>("--seed") { Description = "Seed of the sample draw (and of a preset's random weights)", DefaultValueFactory = _ => 42 };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var format = new Option<string>("--format") { Description = "Image format: png or svg", DefaultValueFactory = _ => "png" };
        var order = new Option<string>("--order") { Description = "Distribution x axis: shared (units by mean share over tasks) or sorted (each task sorted)", DefaultValueFactory = _ => "shared" };
        var yScale = new Option<string>("--y-scale") { Description = "Distribution y axis: auto (log when the shares span decades), log or linear", DefaultValueFactory = _ => "auto" };
        var output = new Option<string>("--out") { Description = "Directory for analysis.md, analysis.json and figures/", DefaultValueFactory = _ => "analysis" };
        var command = new Command("analyze", "Compare tasks by the output magnitudes they cause: per-task distributions of one layer and task-to-task similarity heatmaps, models side by side")
        {
            models, runs, data, tasks, samples, split, layer, layers, batch, seed, device, format, order, yScale, output,
        };
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            var reportOptions = new AnalysisReportOptions
            {
                OutDirectory = OutPath.Directory(parse.GetValue(output)!),
                Format = ReportImageFormats.Parse(parse.GetValue(format)!),
                Order = ParseOrder(parse.GetValue(order)!),
                Scale = ParseScale(parse.GetValue(yScale)!),
            };
            var (subjects, firstRecipe) = Subjects(parse, models, runs);
            string? taskList = parse.GetValue(tasks);
            var settings = new MagnitudeAnalysisSettings
            {
                Data = parse.GetValue(data) ?? firstRecipe?.Data,
                Tasks = taskList is not null ? SplitList(taskList) : TasksOf(firstRecipe),
                Samples = parse.GetValue(samples),
                Split = parse.GetValue(split)!,
                Layer = parse.GetValue(layer),
                Layers = parse.GetValue(layers)!,
                Batch = parse.GetValue(batch),
                Seed = parse.GetValue(seed),
                Device = parse.GetValue(device)!,
                MaxSourceLength = firstRecipe?.Training.MaxSourceLength ?? 512,
                MaxTargetLength = firstRecipe?.Training.MaxTargetLength ?? 50,
                Instructions = firstRecipe?.DataOptions.Instructions,
            };
            settings.Validate(); // before loading any model

            MagnitudeAnalysis analysis = new MagnitudeAnalyzer(settings, Console.WriteLine).Run(subjects);
            AnalysisReportResult result = AnalysisReport.Write(analysis, reportOptions);
            AnalyzeSummary.Print(analysis, result);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The models in command-line order (--model and --run interleaved as given). A run is labelled
    /// as reports label its configuration (ft, ft+MIGU, …), or by its folder when two runs share a label.
    /// </summary>
    private static (IReadOnlyList<AnalysisSubject> Subjects, Recipe? FirstRecipe) Subjects(ParseResult parse, Option<string[]> models, Option<string[]> runs)
    {
        var subjects = new List<AnalysisSubject>();
        var recipes = new List<(int Index, Recipe Recipe)>();
        foreach (var (isRun, value) in InOrder(parse, parse.GetValue(models) ?? [], parse.GetValue(runs) ?? []))
        {
            if (isRun)
            {
                RunCheckpoint checkpoint = RunCheckpoint.Locate(value);
                recipes.Add((subjects.Count, checkpoint.Recipe));
                subjects.Add(AnalysisSubject.ForRun(checkpoint));
            }
            else
            {
                subjects.Add(AnalysisSubject.ForModel(value));
            }
        }

        if (subjects.Count == 0)
        {
            throw new MiguUserException("no model to analyze: give --model DIR|PRESET or --run RUN_DIR (repeat either to compare)");
        }

        var labels = recipes.Select(r => RecipeLabel.Of(r.Recipe)).ToList();
        bool distinct = labels.Distinct(StringComparer.Ordinal).Count() == labels.Count;
        if (distinct)
        {
            for (int k = 0; k < recipes.Count; k++)
            {
                subjects[recipes[k].Index] = subjects[recipes[k].Index] with { Label = labels[k] };
            }
        }

        return (AnalysisSubject.WithUniqueLabels(subjects), recipes.Count > 0 ? recipes[0].Recipe : null);
    }

    /// <summary>(is a run, value) for every --model and --run value, in the order they were typed.</summary>
    private static List<(bool IsRun, string Value)> InOrder(ParseResult parse, string[] models, string[] runs)
    {
        var ordered = new List<(bool, string)>();
        IReadOnlyList<Token> tokens = parse.Tokens;
        for (int i = 0; i + 1 < tokens.Count; i++)
        {
            if (tokens[i].Type == TokenType.Option && tokens[i].Value is "--model" or "--run" && tokens[i + 1].Type == TokenType.Argument)
            {
                ordered.Add((tokens[i].Value == "--run", tokens[i + 1].Value));
            }
        }

        // The parser's own view wins should the token walk ever disagree with it.
        bool agrees = ordered.Where(o => !o.Item1).Select(o => o.Item2).SequenceEqual(models)
            && ordered.Where(o => o.Item1).Select(o => o.Item2).SequenceEqual(runs);
        return agrees ? ordered : [.. models.Select(m => (false, m)), .. runs.Select(r => (true, r))];
    }

    /// <summary>A run's tasks by name: its list, or its paper order's; null leaves the choice to the data's default order.</summary>
    private static IReadOnlyList<string>? TasksOf(Recipe? recipe) =>
        recipe?.Tasks ?? (recipe?.Order is int o ? TaskOrders.Paper(o) : null);

    private static string[] SplitList(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static DistributionOrder ParseOrder(string text) => text.Trim().ToUpperInvariant() switch
    {
        "SHARED" => DistributionOrder.Shared,
        "SORTED" => DistributionOrder.Sorted,
        _ => throw new MiguUserException($"--order: '{text}' is not one of shared, sorted"),
    };

    private static DistributionScale ParseScale(string text) => text.Trim().ToUpperInvariant() switch
    {
        "AUTO" => DistributionScale.Auto,
        "LOG" => DistributionScale.Log,
        "LINEAR" => DistributionScale.Linear,
        _ => throw new MiguUserException($"--y-scale: '{text}' is not one of auto, log, linear"),
    };
}
