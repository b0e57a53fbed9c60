using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Migu.Models.Bert;
using Migu.Models.Checkpoints;
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
/// <remarks>
/// A graph is a file a user hands us: every size is checked before it is allocated (dims
/// non-negative, at most <see cref="MaxElements"/> per initializer, the stored values exactly that
/// many), every node is read only as far as it has inputs and outputs, and anything that does not
/// fit is one <see cref="ImportException"/> line.
/// </remarks>
public static partial class OnnxBertGraph
{
    private const int OnnxFloat = 1;

    /// <summary>The most elements one initializer may have: 2^31 − 1, the most a .NET array holds and far beyond any BERT matrix.</summary>
    public const long MaxElements = int.MaxValue;

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
        catch (ArgumentException e)
        {
            // Google.Protobuf reports some damage (a bad UTF-8 string) as an ArgumentException.
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

        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (TensorProto init in graph.Initializer)
        {
            if (!initializers.TryAdd(init.Name, init))
            {
                throw new ImportException($"{source}: two initializers are named '{init.Name}'");
            }
        }

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

        foreach (NodeProto matmul in users.Where(n => n.OpType == "MatMul" && n.Input.Count == 2 && n.Input[1] == init.Name && n.Output.Count > 0 && init.Dims.Count == 2))
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
        // The dimension that shows a size, from a tensor of the rank BERT gives it.
        long Dim(string name, int rank, int dim)
        {
            if (!weights.TryGetValue(name, out Tensor? t))
            {
                throw new ImportException($"{source}: the graph has no '{name}'; is this a BERT encoder?");
            }

            return t.shape.Length == rank
                ? t.shape[dim]
                : throw new ImportException($"{source}: '{name}' has shape [{string.Join(", ", t.shape)}]; a BERT encoder's has {rank} dimension(s)");
        }

        long layers = 0;
        foreach (string key in weights.Keys)
        {
            Match m = LayerIndex().Match(key);
            if (m.Success)
            {
                // An index beyond a long is as absurd as one beyond the layer bound, which the config check names.
                long index = long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long i) ? i : long.MaxValue - 1;
                layers = Math.Max(layers, index + 1);
            }
        }

        if (layers == 0)
        {
            throw new ImportException($"{source}: the graph has no encoder.layer.N weights; is this a BERT encoder?");
        }

        long heads = Heads(consumers, producers, initializers, graph, source);
        var config = new BertConfig
        {
            VocabSize = Dim("embeddings.word_embeddings.weight", 2, 0),
            HiddenSize = Dim("embeddings.word_embeddings.weight", 2, 1),
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            IntermediateSize = Dim("encoder.layer.0.intermediate.dense.bias", 1, 0),
            MaxPositionEmbeddings = Dim("embeddings.position_embeddings.weight", 2, 0),
            TypeVocabSize = Dim("embeddings.token_type_embeddings.weight", 2, 0),
            LayerNormEps = Epsilon(consumers, producers, initializers, graph, source),
            HiddenAct = "gelu",
            Architecture = BertModel.ArchitectureName,
        };
        config.Validate(source);

        // Every block from 0 on, as the weights name them: a layer index far past the others is named
        // here, before anyone builds the blocks between.
        var shapes = weights.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<long>)kv.Value.shape, StringComparer.Ordinal);
        long elements = weights.Values.Sum(t => t.numel());
        config.Sizes(source).CheckAgainst(new CheckpointShapes(source, shapes, elements));
        int erf = graph.Node.Count(n => n.OpType == "Erf");
        if (erf != layers)
        {
            throw new ImportException($"{source}: expected one Erf (exact GELU) per block, found {erf} for {layers} blocks; only exact GELU is supported");
        }

        return config;
    }

    /// <summary>Heads: the Reshape of the first query projection's output into (batch, tokens, heads, head size).</summary>
    private static long Heads(
        Dictionary<string, List<NodeProto>> consumers, Dictionary<string, NodeProto> producers,
        Dictionary<string, TensorProto> initializers, GraphProto graph, string source)
    {
        const string Bias = "encoder.layer.0.attention.self.query.bias";
        foreach (NodeProto add in (consumers.GetValueOrDefault(Bias) ?? []).Where(n => n.Output.Count > 0))
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
            NodeProto? add = sqrt is { OpType: "Sqrt", Input.Count: > 0 } ? producers.GetValueOrDefault(sqrt.Input[0]) : null;
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
        long expected = 1;
        foreach (long d in dims)
        {
            if (d < 0 || (d > 0 && expected > MaxElements / d))
            {
                throw new ImportException(
                    $"{source}: initializer '{init.Name}' has shape [{string.Join(", ", dims)}]; dimensions must be ≥ 0 and hold at most {MaxElements} elements");
            }

            expected *= d;
        }

        // Counted before anything is copied: the bytes or floats stored must be exactly the shape's.
        long stored = init.RawData.Length > 0 ? init.RawData.Length / sizeof(float) : init.FloatData.Count;
        if (stored != expected || init.RawData.Length % sizeof(float) != 0)
        {
            string held = init.RawData.Length > 0 ? $"{init.RawData.Length} bytes" : $"{init.FloatData.Count} values";
            throw new ImportException($"{source}: initializer '{init.Name}' holds {held} for shape [{string.Join(", ", dims)}] ({expected} floats)");
        }

        return tensor(FloatData(init), dims, ScalarType.Float32);
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
