using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Migu.Models.Bert;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Import;

/// <summary>
/// Reads a BERT encoder out of an ONNX graph as PyTorch exports it (torch.onnx of transformers'
/// BertModel): named initializers carry Hugging Face state-dict names; each projection weight is
/// an unnamed MatMul initializer ([in, out]) whose product feeds an Add with the named bias, so its
/// name is the bias's with ".weight" and its layout is transposed to [out, in]. The sizes come from
/// the graph: hidden, vocabulary, positions and segments from the embeddings, layers and FFN width
/// from the blocks, heads from the Reshape that splits the query into heads, LayerNorm's epsilon
/// from the decomposed LayerNorm, exact GELU from the Erf nodes.
/// </summary>
public static partial class OnnxBertGraph
{
    private const int OnnxFloat = 1;

    /// <summary>The config and weights (Hugging Face names, fp32, [out, in] layout) of the graph in <paramref name="onnx"/>; <paramref name="source"/> names it in errors.</summary>
    public static (BertConfig Config, Dictionary<string, Tensor> Weights) Read(byte[] onnx, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(onnx);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ImportException($"{source}: not a readable ONNX model ({e.Message})", e);
        }

        GraphProto graph = model.Graph ?? throw new ImportException($"{source}: the ONNX model has no graph");
        if (graph.Initializer.Count == 0)
        {
            throw new ImportException($"{source}: the ONNX graph has no initializers (weights)");
        }

        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
        {
            foreach (string input in node.Input)
            {
                if (!consumers.TryGetValue(input, out List<NodeProto>? list))
                {
                    consumers[input] = list = [];
                }

                list.Add(node);
            }

            foreach (string output in node.Output)
            {
                producers[output] = node;
            }
        }

        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (TensorProto init in graph.Initializer.Where(t => t.DataType == OnnxFloat))
            {
                (string name, bool transpose) = Map(init, consumers, initializers, source);
                if (weights.ContainsKey(name))
                {
                    throw new ImportException($"{source}: two initializers map to '{name}' (the second is '{init.Name}')");
                }

                Tensor t = ToTensor(init, source);
                weights[name] = transpose ? Transposed(t) : t;
            }

            BertConfig config = InferConfig(graph, weights, consumers, producers, initializers, source);
            return (config, weights);
        }
        catch
        {
            foreach (Tensor t in weights.Values)
            {
                t.Dispose();
            }

            throw;
        }
    }

    /// <summary>The Hugging Face name of a float initializer and whether its layout is [in, out].</summary>
    private static (string Name, bool Transpose) Map(
        TensorProto init, Dictionary<string, List<NodeProto>> consumers, Dictionary<string, TensorProto> initializers, string source)
    {
        List<NodeProto> users = consumers.GetValueOrDefault(init.Name) ?? [];
        if (HfName().IsMatch(init.Name))
        {
            // A named weight multiplied from the right is [in, out] too (Gemm says so with transB = 0).
            bool inOut = init.Dims.Count == 2 && users.Any(n =>
                (n.OpType == "MatMul" && n.Input.Count > 1 && n.Input[1] == init.Name)
                || (n.OpType == "Gemm" && n.Input.Count > 1 && n.Input[1] == init.Name && !n.Attribute.Any(a => a.Name == "transB" && a.I == 1)));
            return (init.Name, inOut);
        }

        foreach (NodeProto matmul in users.Where(n => n.OpType == "MatMul" && n.Input.Count == 2 && n.Input[1] == init.Name && init.Dims.Count == 2))
        {
            foreach (NodeProto add in consumers.GetValueOrDefault(matmul.Output[0]) ?? [])
            {
                string? bias = add.OpType == "Add"
                    ? add.Input.FirstOrDefault(i => i.EndsWith(".bias", StringComparison.Ordinal) && initializers.TryGetValue(i, out TensorProto? b) && b.DataType == OnnxFloat)
                    : null;
                if (bias is not null)
                {
                    return (bias[..^".bias".Length] + ".weight", true);
                }
            }
        }

        throw new ImportException(
            $"{source}: initializer '{init.Name}' [{string.Join(", ", init.Dims)}] could not be mapped to a BERT weight "
            + "(it is neither named nor a MatMul weight whose product feeds an Add with a named bias)");
    }

    private static BertConfig InferConfig(
        GraphProto graph, Dictionary<string, Tensor> weights, Dictionary<string, List<NodeProto>> consumers,
        Dictionary<string, NodeProto> producers, Dictionary<string, TensorProto> initializers, string source)
    {
        long[] Shape(string name) => weights.TryGetValue(name, out Tensor? t)
            ? t.shape
            : throw new ImportException($"{source}: the graph has no '{name}'; is this a BERT encoder?");

        long[] word = Shape("embeddings.word_embeddings.weight");
        long layers = weights.Keys.Select(k => LayerIndex().Match(k)).Where(m => m.Success)
            .Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1).DefaultIfEmpty(0).Max();
        if (layers == 0)
        {
            throw new ImportException($"{source}: the graph has no encoder.layer.N weights; is this a BERT encoder?");
        }

        long heads = Heads(consumers, producers, initializers, graph, source);
        int erf = graph.Node.Count(n => n.OpType == "Erf");
        if (erf != layers)
        {
            throw new ImportException($"{source}: expected one Erf (exact GELU) per block, found {erf} for {layers} blocks; only exact GELU is supported");
        }

        var config = new BertConfig
        {
            VocabSize = word[0],
            HiddenSize = word[1],
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            IntermediateSize = Shape("encoder.layer.0.intermediate.dense.bias")[0],
            MaxPositionEmbeddings = Shape("embeddings.position_embeddings.weight")[0],
            TypeVocabSize = Shape("embeddings.token_type_embeddings.weight")[0],
            LayerNormEps = Epsilon(consumers, producers, initializers, graph, source),
            HiddenAct = "gelu",
            Architecture = BertModel.ArchitectureName,
        };
        config.Validate(source);
        return config;
    }

    /// <summary>Heads: the Reshape of the first query projection's output into (batch, tokens, heads, head size).</summary>
    private static long Heads(
        Dictionary<string, List<NodeProto>> consumers, Dictionary<string, NodeProto> producers,
        Dictionary<string, TensorProto> initializers, GraphProto graph, string source)
    {
        const string Bias = "encoder.layer.0.attention.self.query.bias";
        foreach (NodeProto add in consumers.GetValueOrDefault(Bias) ?? [])
        {
            foreach (NodeProto reshape in (consumers.GetValueOrDefault(add.Output[0]) ?? []).Where(n => n.OpType == "Reshape" && n.Input.Count == 2))
            {
                List<long>? shape = IntegerValues(reshape.Input[1], producers, initializers, graph);
                if (shape is { Count: 4 } && shape[2] > 0)
                {
                    return shape[2];
                }
            }
        }

        throw new ImportException($"{source}: cannot find the number of attention heads (no Reshape of the query projection into heads)");
    }

    /// <summary>The constant integers of a shape: a constant, or a Concat of constants and computed dims (−1 for those).</summary>
    private static List<long>? IntegerValues(string name, Dictionary<string, NodeProto> producers, Dictionary<string, TensorProto> initializers, GraphProto graph)
    {
        if (ConstantTensor(name, producers, initializers) is TensorProto constant)
        {
            return IntegerData(constant);
        }

        if (producers.TryGetValue(name, out NodeProto? concat) && concat.OpType == "Concat")
        {
            var values = new List<long>();
            foreach (string part in concat.Input)
            {
                List<long>? known = ConstantTensor(part, producers, initializers) is TensorProto t ? IntegerData(t) : null;
                values.AddRange(known ?? [-1]);
            }

            return values;
        }

        return null;
    }

    /// <summary>LayerNorm's epsilon from the embeddings' decomposed LayerNorm: Mul(Div(x − mean, Sqrt(Add(var, ε))), weight).</summary>
    private static double Epsilon(
        Dictionary<string, List<NodeProto>> consumers, Dictionary<string, NodeProto> producers,
        Dictionary<string, TensorProto> initializers, GraphProto graph, string source)
    {
        foreach (NodeProto mul in (consumers.GetValueOrDefault("embeddings.LayerNorm.weight") ?? []).Where(n => n.OpType == "Mul"))
        {
            NodeProto? div = mul.Input.Select(i => producers.GetValueOrDefault(i)).FirstOrDefault(n => n?.OpType == "Div");
            NodeProto? sqrt = div is { Input.Count: 2 } ? producers.GetValueOrDefault(div.Input[1]) : null;
            NodeProto? add = sqrt?.OpType == "Sqrt" ? producers.GetValueOrDefault(sqrt.Input[0]) : null;
            if (add?.OpType != "Add")
            {
                continue;
            }

            foreach (string input in add.Input)
            {
                if (ConstantTensor(input, producers, initializers) is TensorProto eps && eps.DataType == OnnxFloat && FloatData(eps) is [float value])
                {
                    // The float's shortest round-trip text: 1e-12 rather than 9.999999960041972E-13.
                    return double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
                }
            }
        }

        if (consumers.ContainsKey("embeddings.LayerNorm.weight") && graph.Node.Any(n => n.OpType == "LayerNormalization"))
        {
            NodeProto ln = graph.Node.First(n => n.OpType == "LayerNormalization");
            AttributeProto? epsilon = ln.Attribute.FirstOrDefault(a => a.Name == "epsilon");
            return epsilon is null ? 1e-5 : double.Parse(epsilon.F.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        }

        throw new ImportException($"{source}: cannot find LayerNorm's epsilon (no Add of a constant under the Sqrt of the embeddings' LayerNorm)");
    }

    /// <summary>The tensor behind a name: an initializer, or the value of a Constant node.</summary>
    private static TensorProto? ConstantTensor(string name, Dictionary<string, NodeProto> producers, Dictionary<string, TensorProto> initializers)
    {
        if (initializers.TryGetValue(name, out TensorProto? init))
        {
            return init;
        }

        return producers.TryGetValue(name, out NodeProto? node) && node.OpType == "Constant"
            ? node.Attribute.FirstOrDefault(a => a.Name == "value")?.T
            : null;
    }

    private static List<long>? IntegerData(TensorProto t) => t.DataType switch
    {
        7 => t.RawData.Length > 0 ? [.. MemoryMarshal.Cast<byte, long>(t.RawData.Span)] : [.. t.Int64Data],
        6 => t.RawData.Length > 0 ? [.. MemoryMarshal.Cast<byte, int>(t.RawData.Span).ToArray().Select(v => (long)v)] : [.. t.Int32Data.Select(v => (long)v)],
        _ => null,
    };

    private static float[] FloatData(TensorProto t) =>
        t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : [.. t.FloatData];

    private static Tensor ToTensor(TensorProto init, string source)
    {
        if (init.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new ImportException($"{source}: initializer '{init.Name}' is stored outside the graph (external data), which an embedded resource cannot hold");
        }

        long[] dims = [.. init.Dims];
        float[] values = FloatData(init);
        long expected = dims.Aggregate(1L, (a, b) => a * b);
        if (values.LongLength != expected)
        {
            throw new ImportException($"{source}: initializer '{init.Name}' has {values.LongLength} values for shape [{string.Join(", ", dims)}]");
        }

        return tensor(values, dims, ScalarType.Float32);
    }

    private static Tensor Transposed(Tensor t)
    {
        using (t)
        {
            return t.t().contiguous();
        }
    }

    /// <summary>
    /// A Hugging Face parameter name (a dotted path such as encoder.layer.0.output.dense.bias), as
    /// opposed to the exporter's own names: numbers (PyTorch 1.x) or "onnx::MatMul_788" (PyTorch 2).
    /// </summary>
    [GeneratedRegex(@"^[A-Za-z_]\w*(\.\w+)+$")]
    private static partial Regex HfName();

    [GeneratedRegex(@"^encoder\.layer\.(\d+)\.")]
    private static partial Regex LayerIndex();
}
