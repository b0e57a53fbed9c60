using BenchmarkDotNet.Running;
using Migu.Benchmarks;

// dotnet run -c Release --project benchmarks/Migu.Benchmarks -- ab [steps]       interleaved overhead ratios
// dotnet run -c Release --project benchmarks/Migu.Benchmarks -- --filter '*'    BenchmarkDotNet, per case
if (args.Length > 0 && args[0] == "ab")
{
    int steps = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 40;
    InterleavedOverhead.Run(steps);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
