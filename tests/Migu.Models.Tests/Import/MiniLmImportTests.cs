using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>;
using Migu.Models.Bert;
using Migu.Models.Checkpoints;
using Migu.Models.Import;
using Migu.Models.Tests.Roberta;
using Migu.Models.Tests.Tokenizers;
using Migu.Models.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Import;

/// <summary>
/// The imported MiniLM against the package's own ONNX graph run by ONNX Runtime on the same
/// padded batch of real sentences: last hidden state and the mean-pooled sentence embedding
/// within 1e-4 relative; the checkpoint reloads through the loaders with the package's vocabulary.
/// </summary>
[Collection(MiniLmShared.Name)]
public sealed class MiniLmImportTests(MiniLmPackage minilm)
{
    private const double Rtol = 1e-4;
    private const double Atol = 1e-5;

    [Fact]
    public void The_graph_gives_all_minilm_l6_v2_sizes_and_a_pooler()
    {
        BertConfig c = minilm.Result.Config;
        Assert.Equal((6L, 384L, 12L, 1536L, 30522L, 512L, 2L), (c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize, c.VocabSize, c.MaxPositionEmbeddings, c.TypeVocabSize));
        Assert.Equal(1e-12, c.LayerNormEps);
        Assert.True(minilm.Result.HasPooler);
        Assert.True(minilm.Result.Lowercase);
        Assert.Equal(EncoderImport.WrittenFiles.Order(), Directory.GetFiles(minilm.Imported).Select(Path.GetFileName).Order());
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(minilm.Imported)!, $".{Path.GetFileName(minilm.Imported)}.import-*"));
    }

    [Fact]
    public void Last_hidden_state_and_mean_pooled_embedding_match_onnx_runtime_on_a_padded_batch()
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(minilm.Imported);
        using LanguageModel loaded = ModelLoader.Load(minilm.Imported);
        BertModel model = Assert.IsType<BertModel>(loaded);
        List<string> sentences = WordPieceOracleTests.RealSentences(perTask: 2);
        sentences.Add("A short one.");
        var encoded = sentences.Select(s => tokenizer.Encode(s).Take(64).ToList()).ToList();
        int batch = encoded.Count, length = encoded.Max(e => e.Count);
        long[] ids = new long[batch * length], mask = new long[batch * length];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < encoded[b].Count; t++)
            {
                ids[(b * length) + t] = encoded[b][t];
                mask[(b * length) + t] = 1;
            }
        }

        Assert.Contains(mask, m => m == 0); // the batch is padded

        float[] expected = RunOnnx(ids, mask, batch, length);
        using var scope = NewDisposeScope();
        Tensor idsT = tensor(ids, [batch, length]), maskT = tensor(mask, [batch, length]);
        Tensor hidden = model.call(new ModelBatch { InputIds = idsT, AttentionMask = maskT }).Logits; // (B, T, C)
        AssertClose(expected, hidden.reshape(-1).data<float>().ToArray(), "last hidden state");

        // Mean pooling of ORT's states, computed here, against ours.
        int width = (int)minilm.Result.Config.HiddenSize;
        var pooled = new float[batch * width];
        for (int b = 0; b < batch; b++)
        {
            int real = encoded[b].Count;
            for (int c = 0; c < width; c++)
            {
                double sum = 0;
                for (int t = 0; t < real; t++)
                {
                    sum += expected[(((b * length) + t) * width) + c];
                }

                pooled[(b * width) + c] = (float)(sum / real);
            }
        }

        AssertClose(pooled, BertModel.MeanPool(hidden, maskT).reshape(-1).data<float>().ToArray(), "mean-pooled embedding");
    }

    [Fact]
    public void The_checkpoint_is_lossless_and_its_tokenizer_reads_the_packages_vocabulary()
    {
        Assert.Equal(minilm.Package.Vocabulary.Bytes, File.ReadAllBytes(Path.Combine(minilm.Imported, "vocab.txt")));
        var fromJson = Assert.IsType<WordPieceTokenizer>(TokenizerLoader.Load(minilm.Imported));
        string vocabOnly = Directory.CreateTempSubdirectory("migu-vocab-").FullName;
        try
        {
            File.Copy(Path.Combine(minilm.Imported, "vocab.txt"), Path.Combine(vocabOnly, "vocab.txt"));
            File.Copy(Path.Combine(minilm.Imported, "tokenizer_config.json"), Path.Combine(vocabOnly, "tokenizer_config.json"));
            var fromVocab = Assert.IsType<WordPieceTokenizer>(TokenizerLoader.Load(vocabOnly));
            foreach (string s in WordPieceOracleTests.RealSentences(perTask: 10))
            {
                Assert.Equal(fromVocab.Encode(s), fromJson.Encode(s));
            }

            Assert.Equal(512, fromVocab.ModelMaxLength);
            Assert.Equal(30522, fromVocab.VocabSize);
        }
        finally
        {
            Directory.Delete(vocabOnly, recursive: true);
        }

        // Bit-for-bit: the query weight of block 3 is the transpose of its MatMul initializer in the graph.
        (_, Dictionary<string, Tensor> weights) = OnnxBertGraph.Read(minilm.Package.Onnx.Bytes, "graph");
        Dictionary<string, Tensor> saved = StateDictFiles.Load(minilm.Imported);
        try
        {
            Assert.Equal(weights.Keys.Where(k => k != "embeddings.position_ids").Order(), saved.Keys.Order());
            foreach (var (name, t) in saved)
            {
                Assert.True(RobertaFixtures.Same(t, weights[name]), name);
            }
        }
        finally
        {
            foreach (Tensor t in weights.Values.Concat(saved.Values))
            {
                t.Dispose();
            }
        }
    }

    private float[] RunOnnx(long[] ids, long[] mask, int batch, int length)
    {
        using var session = new InferenceSession(minilm.Package.Onnx.Bytes);
        int[] dims = [batch, length];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor(ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor(mask, dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor(new long[ids.Length], dims)),
        };
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(inputs, ["last_hidden_state"]);
        return [.. results.Single().AsTensor<float>()];
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(expected[i] - actual[i]);
            worst = Math.Max(worst, diff / (Atol + (Rtol * Math.Abs(expected[i]))));
            Assert.True(diff <= Atol + (Rtol * Math.Abs(expected[i])), $"{what}[{i}]: ONNX Runtime {expected[i]}, ours {actual[i]} (diff {diff})");
        }

        Assert.True(worst <= 1, what);
    }
}
