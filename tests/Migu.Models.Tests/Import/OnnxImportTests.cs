using Google.Protobuf;
using Migu.Models.Bert;
using Migu.Models.Tests.Bert;
using Migu.Models.Checkpoints;
using Migu.Models.Import;
using Migu.Models.Tests.Roberta;
using Onnx;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Import;

/// <summary>
/// The import of a graph file: Fixtures/bert/onnx/model.onnx, the tiny BERT encoder fixture exported
/// by PyTorch's own ONNX exporter (tools/make_bert_onnx.py), comes back as that fixture's weights bit
/// for bit; and hostile edits of it (sizes beyond any tensor, a scalar where a vector belongs, a
/// layer index past a long, two initializers of one name, a node without outputs, a truncated file)
/// are each one user-error line (an <see cref="ImportException"/>, or a <see cref="CheckpointException"/> from the config check), with nothing written.
/// </summary>
public sealed class OnnxImportTests : IDisposable
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "bert", "onnx");
    private readonly string temp = Directory.CreateTempSubdirectory("migu-onnx-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Output => Path.Combine(temp, "out");

    [Fact]
    public void Pytorchs_export_of_the_tiny_encoder_imports_to_its_weights_bit_for_bit()
    {
        var (config, pooled, lowercase) = EncoderImport.FromGraph(Graph(), Vocab(), Output, "tiny");

        Assert.Equal((99L, 32L, 2L, 4L, 37L, 24L, 2L), (config.VocabSize, config.HiddenSize, config.NumHiddenLayers, config.NumAttentionHeads, config.IntermediateSize, config.MaxPositionEmbeddings, config.TypeVocabSize));
        Assert.Equal(1e-12, config.LayerNormEps);
        Assert.True(pooled);
        Assert.True(lowercase);
        Dictionary<string, Tensor> expected = StateDictFiles.Load(Path.Combine(BertParityTests.Root, "encoder"));
        Dictionary<string, Tensor> imported = StateDictFiles.Load(Output);
        try
        {
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), imported.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, t) in expected)
            {
                Assert.True(RobertaFixtures.Same(t, imported[name]), name);
            }
        }
        finally
        {
            foreach (Tensor t in expected.Values.Concat(imported.Values))
            {
                t.Dispose();
            }
        }

        using LanguageModel model = ModelLoader.Load(Output);
        Assert.IsType<BertModel>(model);
    }

    [Fact]
    public void Dimensions_whose_product_wraps_around_are_refused_before_anything_is_allocated()
    {
        // 2^32 × 2^32 wrapped to 0 elements, which an empty initializer "held".
        byte[] graph = Edit(g =>
        {
            TensorProto t = g.Initializer.Single(i => i.Name == "embeddings.token_type_embeddings.weight");
            t.Dims.Clear();
            t.Dims.Add([1L << 32, 1L << 32]);
            t.RawData = ByteString.Empty;
        });

        AssertRefused(graph, "initializer 'embeddings.token_type_embeddings.weight' has shape [4294967296, 4294967296]; dimensions must be ≥ 0");
    }

    [Fact]
    public void Negative_dimensions_are_refused()
    {
        // [-2, -32] "holds" 64 values, as many as the real [2, 32].
        byte[] graph = Edit(g =>
        {
            TensorProto t = g.Initializer.Single(i => i.Name == "embeddings.token_type_embeddings.weight");
            t.Dims.Clear();
            t.Dims.Add([-2L, -32L]);
        });

        AssertRefused(graph, "has shape [-2, -32]; dimensions must be ≥ 0");
    }

    [Fact]
    public void A_scalar_where_berts_graph_has_a_vector_is_refused_by_name()
    {
        byte[] graph = Edit(g =>
        {
            TensorProto t = g.Initializer.Single(i => i.Name == "encoder.layer.0.intermediate.dense.bias");
            t.Dims.Clear();
            t.RawData = ByteString.CopyFrom(new byte[4]);
        });

        AssertRefused(graph, "'encoder.layer.0.intermediate.dense.bias' has shape []; a BERT encoder's has 1 dimension(s)");
    }

    [Theory]
    [InlineData("999", "'num_hidden_layers' is 1000 but ")]
    [InlineData("99999999999999999999", "'num_hidden_layers' is 9223372036854775807, more than 1024")]
    public void A_layer_index_far_past_the_others_is_refused_before_the_blocks_between_are_built(string index, string expected)
    {
        byte[] graph = Edit(g =>
        {
            TensorProto t = g.Initializer.Single(i => i.Name == "encoder.layer.1.output.dense.bias");
            string renamed = $"encoder.layer.{index}.output.dense.bias";
            foreach (NodeProto n in g.Node)
            {
                for (int i = 0; i < n.Input.Count; i++)
                {
                    if (n.Input[i] == t.Name)
                    {
                        n.Input[i] = renamed;
                    }
                }
            }

            t.Name = renamed;
        });

        AssertRefused(graph, expected);
    }

    [Fact]
    public void Two_initializers_of_one_name_are_refused()
    {
        byte[] graph = Edit(g => g.Initializer.Add(g.Initializer.Single(i => i.Name == "embeddings.LayerNorm.bias").Clone()));

        AssertRefused(graph, "two initializers are named 'embeddings.LayerNorm.bias'");
    }

    [Fact]
    public void A_matmul_without_outputs_is_read_as_far_as_it_goes()
    {
        // The first unnamed weight's MatMul loses its output: the weight can no longer be mapped, and says so.
        string weight = "";
        byte[] graph = Edit(g =>
        {
            weight = g.Initializer.First(i => i.Name.StartsWith("onnx::MatMul_", StringComparison.Ordinal)).Name;
            g.Node.First(n => n.OpType == "MatMul" && n.Input.Contains(weight)).Output.Clear();
        });

        AssertRefused(graph, $"initializer '{weight}' [32, 32] could not be mapped to a BERT weight");
    }

    [Fact]
    public void A_truncated_graph_is_refused()
    {
        byte[] graph = Graph();
        AssertRefused(graph[..(graph.Length / 2)], "not a readable ONNX model");
    }

    [Fact]
    public void A_vocabulary_that_is_not_utf8_or_longer_than_the_embedding_is_refused_by_line()
    {
        byte[] vocab = Vocab();
        byte[] bad = [.. vocab];
        bad[Array.IndexOf(bad, (byte)'h')] = 0xFF; // the first 'h' is the letter h itself, line 35
        var e = Assert.Throws<Migu.Core.MiguUserException>(() => EncoderImport.FromGraph(Graph(), bad, Output, "tiny"));
        Assert.Equal("tiny: vocab.txt: line 35 is not valid UTF-8 text.", e.Message);

        byte[] longer = [.. vocab, .. "extra\n"u8];
        AssertRefused(Graph(), "tiny: vocab.txt has 100 lines but the graph's word embedding only 99 rows", longer);
    }

    private void AssertRefused(byte[] graph, string expected, byte[]? vocab = null)
    {
        var e = Assert.ThrowsAny<Migu.Core.MiguUserException>(() => EncoderImport.FromGraph(graph, vocab ?? Vocab(), Output, "tiny"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(Output), "nothing is written for a refused import");
        Assert.Empty(Directory.GetDirectories(temp, ".out.import-*"));
    }

    private static byte[] Graph() => File.ReadAllBytes(Path.Combine(Fixture, "model.onnx"));

    private static byte[] Vocab() => File.ReadAllBytes(Path.Combine(Fixture, "vocab.txt"));

    private static byte[] Edit(Action<GraphProto> edit)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(Graph());
        edit(model.Graph);
        return model.ToByteArray();
    }
}
