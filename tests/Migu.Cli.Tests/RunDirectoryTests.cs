using System.Diagnostics;
using System.Text.Json.Nodes;
using Migu.Core.IO;

namespace Migu.Cli.Tests;

/// <summary>What --out may name, and one writer per run directory: real processes, one of them killed with SIGKILL.</summary>
public sealed class RunDirectoryTests : IDisposable
{
    private readonly TinyTaskRoot data = new(train: 24, test: 4);
    private readonly string work = Directory.CreateTempSubdirectory("migu-out-cli").FullName;

    public void Dispose()
    {
        data.Dispose();
        Directory.Delete(work, recursive: true);
    }

    /// <summary>Every verb with --out, with arguments that would otherwise start its work: <paramref name="file"/> where a directory goes, <paramref name="dir"/> where a file goes.</summary>
    private string[][] VerbsWithOut(string file, string dir) =>
    [
        ["run", "--data", data.Root, "--tasks", "colors", "--model", "llama-tiny", "--out", file],
        ["demo", "--model", "llama-tiny", "--max-train", "4", "--out", file],
        ["sweep", "--data", data.Root, "--tasks", "colors", "--model", "llama-tiny", "--grid", "migu=0,0.5", "--out", file],
        ["pretrain", "--model", "llama-tiny", "--corpus", Path.Combine(data.TaskDirectory("TC", "colors"), "train.json"), "--out", file],
        ["tokenizer", "train", "--corpus", file, "--out", file],
        ["import", "--out", file],
        ["report", work, "--out", file],
        ["analyze", "--model", "llama-tiny", "--out", file],
        ["eval", "--model", "llama-tiny", "--data", data.Root, "--tasks", "colors", "--out", dir],
        ["magnitudes", "--model", "llama-tiny", "--input", file, "--out", dir],
    ];

    [Fact]
    public void Out_naming_a_file_where_a_directory_goes_or_the_reverse_is_one_line_and_exit_code_2_for_every_verb()
    {
        string file = Path.Combine(work, "existing.txt");
        File.WriteAllText(file, "keep me");
        string dir = Directory.CreateDirectory(Path.Combine(work, "existing-dir")).FullName;
        string[][] verbs = VerbsWithOut(file, dir);

        // Every command that declares --out is covered here.
        string[] declaring = [.. Directory.GetFiles(RepoFiles.Path("src", "Migu.Cli", "Commands"), "*Command.cs")
            .Where(f => File.ReadAllText(f).Contains("Option<string", StringComparison.Ordinal) && File.ReadAllText(f).Contains("(\"--out\")", StringComparison.Ordinal))
            .Select(f => Path.GetFileNameWithoutExtension(f)[..^"Command".Length].ToLowerInvariant())
            .Order(StringComparer.Ordinal)];
        Assert.Equal(declaring, verbs.Select(v => v[0]).Order(StringComparer.Ordinal));

        foreach (string[] args in verbs)
        {
            var (code, stdout, stderr) = MiguProcess.Run(args);
            string verb = string.Join(' ', args[..2]);
            Assert.True(code == 2, $"{verb}: exit {code}\n{stdout}\n{stderr}");
            string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Matches("^error: --out .* is a (file; give a directory|directory; give a file name)$", line);
            Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        }

        Assert.Equal("keep me", File.ReadAllText(file));
        Assert.Empty(Directory.GetFileSystemEntries(dir));
        var below = MiguProcess.Run("run", "--data", data.Root, "--tasks", "colors", "--out", Path.Combine(file, "run"));
        Assert.Equal(2, below.ExitCode);
        Assert.Contains($"{file} is a file, not a directory", below.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_run_on_a_busy_directory_is_refused_naming_the_holder_and_a_killed_holder_leaves_it_free()
    {
        string outDir = Path.Combine(work, "run");
        string[] args =
        [
            "run", "--data", data.Root, "--tasks", "colors,moods", "--model", "llama-tiny", "--epochs", "3", "--batch", "4", "--lr", "3e-3",
            "--max-source-len", "64", "--max-target-len", "4", "--eval", "rank", "--checkpoint-every", "2", "--out", outDir,
        ];
        using Process holder = MiguProcess.Start(new Dictionary<string, string>(), args);
        Task<string> holderOutput = holder.StandardOutput.ReadToEndAsync(); // drained, so a full pipe never stalls it
        Task<string> holderErrors = holder.StandardError.ReadToEndAsync();
        string loss = Path.Combine(outDir, "loss.csv");
        var waited = Stopwatch.StartNew();
        while (!(File.Exists(loss) && File.ReadAllLines(loss).Length > 1)) // training has begun
        {
            if (holder.HasExited)
            {
                Assert.Fail($"the first run ended early (exit {holder.ExitCode}): {await holderErrors}");
            }

            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(3), "the first run did not start training");
            await Task.Delay(20);
        }

        Signal(holder, "STOP"); // frozen mid-task, still holding the directory, however slowly the second run starts
        var (code, stdout, stderr) = MiguProcess.Run(args);

        Assert.True(code == 2, stdout + stderr);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: {outDir} is in use by another migu process (pid {holder.Id}", line, StringComparison.Ordinal);
        Assert.Equal(holder.Id, DirectoryLock.RecordedHolder(outDir)); // the refused run wrote nothing, not even its pid

        Signal(holder, "KILL"); // no chance to release anything: the kernel drops the lock
        await holder.WaitForExitAsync();
        await Task.WhenAll(holderOutput, holderErrors);
        Assert.True(File.Exists(Path.Combine(outDir, DirectoryLock.FileName)), "a killed holder leaves its lock file");
        var again = MiguProcess.Run(args);

        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        Assert.True(JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")))!["finished"]!.GetValue<bool>());
        Assert.False(File.Exists(Path.Combine(outDir, DirectoryLock.FileName)), "the lock file goes when its run ends");
    }

    /// <summary>Sends a signal by name (the shell's kill: no native import in the tests).</summary>
    private static void Signal(Process process, string signal)
    {
        using Process kill = Process.Start("/bin/sh", ["-c", $"kill -{signal} {process.Id}"]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
