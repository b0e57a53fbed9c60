using System.Text.Json.Nodes;
using Migu.Continual.Bench;
using Migu.Core;

namespace Migu.Continual.Tests.Bench;

/// <summary>
/// <c>migu bench --serve</c>'s loop, in process on the CPU: blocks continue one training run (the
/// interleaved benchmark relies on it), each block runs its own MIGU mode and levers, and a bad
/// request is answered without ending the server.
/// </summary>
public sealed class BenchServerTests
{
    private static readonly BenchCase Tiny = new()
    {
        Model = "llama-tiny", Batch = 2, SequenceLength = 16, Dtype = "fp32", Device = "cpu",
        Migu = new MiguOptions { Threshold = 0.7 },
    };

    private static List<JsonNode> Serve(params string[] requests)
    {
        using var output = new StringWriter();
        BenchServer.Serve(Tiny, new StringReader(string.Join('\n', requests)), output);
        return [.. output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!)];
    }

    [Fact]
    public void Blocks_continue_one_run_so_two_blocks_end_where_one_long_block_ends()
    {
        List<JsonNode> split = Serve("block gradient none 0 2", "block gradient none 0 1", "quit");
        List<JsonNode> whole = Serve("block gradient none 0 3", "quit");

        Assert.True(split[0]["ready"]!.GetValue<bool>());
        Assert.Equal(2 * 16, split[0]["tokens_per_step"]!.GetValue<long>());
        Assert.Equal(2, split[1]["step_ms"]!.AsArray().Count);
        Assert.Equal(whole[1]["loss"]!.GetValue<double>(), split[2]["loss"]!.GetValue<double>());
        Assert.NotEqual(split[1]["loss"]!.GetValue<double>(), split[2]["loss"]!.GetValue<double>()); // it did train
        Assert.Equal(2, split[3]["blocks"]!.GetValue<int>());
    }

    [Fact]
    public void Each_block_runs_its_own_mode_and_levers_and_a_bad_request_gets_an_error_line()
    {
        List<JsonNode> lines = Serve(
            "block off none 1 1", "block update all 0 1", "block gradient sideways 0 1", "block nowhere none 0 1", "hello", "block gradient none,+fused-adamw 0 1");

        Assert.Equal("off", lines[1]["migu"]!.GetValue<string>());
        Assert.Equal("none", lines[1]["levers"]!.GetValue<string>());
        Assert.Equal("update", lines[2]["migu"]!.GetValue<string>());
        Assert.Equal(PerformanceLeversSpec("all"), lines[2]["levers"]!.GetValue<string>());
        Assert.Contains("'sideways' is not one of", lines[3]["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("MODE 'nowhere'", lines[4]["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("expected 'block MODE LEVERS WARMUP STEPS'", lines[5]["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("none,fused-adamw", lines[6]["levers"]!.GetValue<string>());
        Assert.True(double.IsFinite(lines[6]["loss"]!.GetValue<double>()));
        Assert.Equal(7, lines.Count); // no 'quit': the server ends with its input
    }

    private static string PerformanceLeversSpec(string spec) => Migu.Core.Runtime.PerformanceLevers.Parse(spec).ToString();
}
