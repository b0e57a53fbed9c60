using System.Text.Json.Nodes;

namespace Migu.Distributed.Tests;

/// <summary>
/// Real multi-process jobs on the CPU: Open MPI starts the ranks, the collectives go through libmpi.
/// The equivalence tests compare N ranks with per-step batch B against one process with the same B
/// and N times the micro-batches, which computes the same micro-batches (BatchSharding).
/// </summary>
public sealed class MpiJobTests : IDisposable
{
    private const string Worker = "Migu.Distributed.Worker.dll";
    private readonly string root = Directory.CreateTempSubdirectory("migu-dp").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [MpiFact]
    public void Every_collective_gives_the_predicted_values_on_two_ranks()
    {
        var (code, stdout, stderr) = Mpi.Run(2, "migu.dll", "dist-check", "--device", "cpu", "--size-mb", "1", "--iterations", "2", "--json");

        Assert.True(code == 0, stderr + stdout);
        // Open MPI hands ranks a pseudo-terminal, so .NET may put terminal set-up bytes before the JSON line.
        string line = stdout.Split('\n').Last(l => l.Contains('{', StringComparison.Ordinal));
        JsonNode result = JsonNode.Parse(line[line.IndexOf('{', StringComparison.Ordinal)..])!;
        Assert.Equal("mpi", result["backend"]!.GetValue<string>());
        Assert.Equal(2, result["world_size"]!.GetValue<int>());
        Assert.Equal("openmpi", result["launcher"]!.GetValue<string>());
        Assert.True(result["passed"]!.GetValue<bool>());
        Assert.All(result["ranks"]!.AsArray(), rank => Assert.Equal(10, rank!["checks"]!.AsArray().Count));
    }

    [MpiFact]
    public void Two_ranks_train_as_one_process_with_twice_the_micro_batches_llama_ft_with_migu()
    {
        string data = TaskFiles.Write(Path.Combine(root, "data"));
        string single = Path.Combine(root, "single");
        string parallel = Path.Combine(root, "parallel");

        var one = ChildProcess.Dotnet(Worker, TaskFiles.Save(TaskFiles.LlamaFt(data, batch: 4, gradAccum: 2), Path.Combine(root, "one.json")), single);
        var two = Mpi.Run(2, Worker, TaskFiles.Save(TaskFiles.LlamaFt(data, batch: 4, gradAccum: 1), Path.Combine(root, "two.json")), parallel);

        Assert.True(one.ExitCode == 0, one.Stderr);
        Assert.True(two.ExitCode == 0, two.Stderr + two.Stdout);
        RunFiles.AssertSameTrajectory(single, parallel, relative: 1e-5);
        Assert.Equal(12, RunFiles.Losses(parallel).Length); // one row per step: rank 1 wrote nothing
    }

    [MpiFact]
    public void Four_ranks_with_dropout_lora_and_generated_answers_match_one_process()
    {
        // batch 7 over 4 ranks: uneven shares, and the last batch of an epoch (3 of 24) leaves rank 3 without examples.
        string data = TaskFiles.Write(Path.Combine(root, "data"));
        string single = Path.Combine(root, "single");
        string parallel = Path.Combine(root, "parallel");

        var one = ChildProcess.Dotnet(Worker, TaskFiles.Save(TaskFiles.T5Lora(data, batch: 7, gradAccum: 4), Path.Combine(root, "one.json")), single);
        var four = Mpi.Run(4, Worker, TaskFiles.Save(TaskFiles.T5Lora(data, batch: 7, gradAccum: 1), Path.Combine(root, "four.json")), parallel);

        Assert.True(one.ExitCode == 0, one.Stderr);
        Assert.True(four.ExitCode == 0, four.Stderr + four.Stdout);
        RunFiles.AssertSameTrajectory(single, parallel, relative: 1e-5);
    }

    [MpiFact]
    public void A_job_killed_between_tasks_or_stopped_mid_task_resumes_to_the_uninterrupted_result()
    {
        string data = TaskFiles.Write(Path.Combine(root, "data"));
        string recipe = TaskFiles.Save(TaskFiles.LlamaFt(data, batch: 4, gradAccum: 1) with { Training = TaskFiles.LlamaFt(data, 4, 1).Training with { CheckpointEvery = 2 } }, Path.Combine(root, "recipe.json"));
        string whole = Path.Combine(root, "whole");
        string crashed = Path.Combine(root, "crashed");
        string stopped = Path.Combine(root, "stopped");

        Assert.Equal(0, Mpi.Run(2, Worker, recipe, whole).ExitCode);

        // Rank 0 fails after task 1 is committed; Open MPI ends the whole job.
        Assert.NotEqual(0, Mpi.Run(2, Worker, recipe, crashed, "--stop-after-phase", "0").ExitCode);
        Assert.Single(RunFiles.Metrics(crashed).AccuracyMatrix);
        Assert.Equal(0, Mpi.Run(2, Worker, recipe, crashed).ExitCode);

        // A stop request on rank 0 after step 2 of task 2: every rank stops after the next step, rank 0 writes a mid-task checkpoint.
        var interrupted = Mpi.Run(2, Worker, recipe, stopped, "--cancel-after", "1:2");
        Assert.NotEqual(0, interrupted.ExitCode);
        Assert.Contains("mid-task checkpoint at step 3", File.ReadAllText(Path.Combine(stopped, "run.log")), StringComparison.Ordinal);
        Assert.Equal(0, Mpi.Run(2, Worker, recipe, stopped).ExitCode);

        RunFiles.AssertSameTrajectory(whole, crashed, relative: 0);
        RunFiles.AssertSameTrajectory(whole, stopped, relative: 0);
    }
}
