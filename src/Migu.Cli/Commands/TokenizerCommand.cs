using System.CommandLine;
using System.Diagnostics;
using Migu.Core;
using Migu.Models.Tokenizers;

namespace Migu.Cli.Commands;

/// <summary><c>migu tokenizer train</c>: learns a byte-level BPE vocabulary from text files.</summary>
internal static class TokenizerCommand
{
    public static Command Create()
    {
        var corpus = new Option<string[]>("--corpus") { Description = "Text file, one document per line; repeat for more files", Required = true };
        var vocabSize = new Option<int>("--vocab-size") { Description = "Vocabulary size, special tokens and the 256 bytes included", DefaultValueFactory = _ => 2048 };
        var output = new Option<string>("--out") { Description = "Directory for tokenizer.json and tokenizer_config.json", Required = true };
        var train = new Command("train", "Learn a byte-level BPE tokenizer (Hugging Face tokenizer.json) from text") { corpus, vocabSize, output };
        train.SetAction(parse => CliErrors.Run(parse, () =>
        {
            string dir = OutPath.Directory(parse.GetValue(output)!);
            string[] files = parse.GetValue(corpus)!;
            foreach (string f in files.Where(f => !File.Exists(f)))
            {
                throw new MiguUserException($"{f}: no such corpus file");
            }

            var clock = Stopwatch.StartNew();
            TrainedBpe bpe = ByteLevelBpeTrainer.Train(files.SelectMany(File.ReadLines), parse.GetValue(vocabSize));
            ByteLevelBpeTrainer.Save(bpe, dir);
            Console.WriteLine($"{bpe.Vocabulary.Count} tokens ({bpe.Merges.Count} merges) from {files.Length} file(s) in {clock.Elapsed.TotalSeconds:F1} s → {dir}");
            return 0;
        }));
        return new Command("tokenizer", "Tokenizer tools") { train };
    }
}
