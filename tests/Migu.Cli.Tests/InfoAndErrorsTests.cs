namespace Migu.Cli.Tests;

public class InfoAndErrorsTests
{
    [Fact]
    public void Info_prints_versions_and_a_passing_matmul_check()
    {
        var (code, stdout, _) = MiguProcess.Run("info", "--device", "cpu");
        Assert.Equal(0, code);
        Assert.Contains("TorchSharp", stdout, StringComparison.Ordinal);
        Assert.Contains("0.107.0", stdout, StringComparison.Ordinal);
        Assert.Contains("matmul check │ ok", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_device_is_one_line_and_exit_code_2()
    {
        var (code, stdout, stderr) = MiguProcess.Run("info", "--device", "tpu");
        Assert.Equal(2, code);
        Assert.Equal("error: device 'tpu' is not one of cpu, cuda, cuda:N, auto", stderr.Trim());
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Magnitudes_refuses_a_bad_threshold_and_a_missing_input_clearly()
    {
        string dir = Directory.CreateTempSubdirectory("migu-cli").FullName;
        try
        {
            var (code1, _, err1) = MiguProcess.Run("magnitudes", "--model", "llama-tiny", "--input", "x.json", "--threshold", "1.5", "--out", Path.Combine(dir, "o.json"));
            Assert.Equal(2, code1);
            Assert.Contains("threshold T must lie in [0, 1)", err1, StringComparison.Ordinal);

            var (code2, _, err2) = MiguProcess.Run("magnitudes", "--model", "llama-tiny", "--input", Path.Combine(dir, "absent.json"), "--out", Path.Combine(dir, "o.json"));
            Assert.Equal(2, code2);
            Assert.Contains("absent.json: not found", err2, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dir, "o.json")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
