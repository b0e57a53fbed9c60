using System.Buffers.Binary;
using System.Text;
using Migu.Models.Checkpoints;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Checkpoints;

/// <summary>
/// Hand-written safetensors files (8-byte length, JSON header, data) against the header checks:
/// each broken file is one line naming the file, the tensor and what is wrong, before anything is
/// allocated for the tensors.
/// </summary>
public sealed class SafeTensorsHeaderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("migu-st").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_file_written_by_the_saver_is_read_back_with_its_layout()
    {
        using Tensor a = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        using Tensor b = tensor(new long[] { 7, 8 });
        string path = Path.Combine(dir, "ok.safetensors");
        StateDictFiles.SaveSafeTensorsFile(path, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b });

        SafeTensorsHeader header = SafeTensorsHeader.Read(path);
        Dictionary<string, Tensor> loaded = StateDictFiles.LoadSafeTensorsFile(path);

        Assert.Equal(["a", "b"], header.Tensors.Select(t => t.Name));
        Assert.Equal([2L, 3L], header.Tensors[0].Shape);
        Assert.Equal((0L, 24L), (header.Tensors[0].Begin, header.Tensors[0].End));
        Assert.Equal(ScalarType.Int64, header.Tensors[1].DType);
        Assert.True(loaded["a"].allclose(a, rtol: 0, atol: 0));
        Assert.True(loaded["b"].eq(b).all().item<bool>());
        foreach (Tensor t in loaded.Values)
        {
            t.Dispose();
        }
    }

    [Fact]
    public void Metadata_is_a_string_map_and_zero_sized_tensors_take_no_bytes()
    {
        string path = Write("""{"__metadata__": {"format": "pt"}, "empty": {"dtype": "F32", "shape": [0, 4], "data_offsets": [0, 0]}, "x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}""", 4);

        SafeTensorsHeader header = SafeTensorsHeader.Read(path);

        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(["empty", "x"], header.Tensors.Select(t => t.Name));
        Dictionary<string, Tensor> loaded = SafeTensorsHeader.Load(path);
        Assert.Equal([0L, 4L], loaded["empty"].shape);
        Assert.Equal(ScalarType.BFloat16, loaded["x"].dtype);
        foreach (Tensor t in loaded.Values)
        {
            t.Dispose();
        }
    }

    public static TheoryData<string, int, string> BrokenHeaders => new()
    {
        { """[1, 2]""", 0, "the header is a JSON array, not an object" },
        { """{"w": {"dtype": "F32", "shape": [2""", 0, "the header is not valid JSON" },
        { """{"w": [1]}""", 0, "tensor 'w' must be an object with dtype, shape and data_offsets" },
        { """{"w": {"shape": [1], "data_offsets": [0, 4]}}""", 4, "tensor 'w' has no dtype string" },
        { """{"w": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}}""", 4, "tensor 'w' has unknown dtype 'F33'" },
        { """{"w": {"dtype": "U16", "shape": [2], "data_offsets": [0, 4]}}""", 4, "tensor 'w' has dtype 'U16', which is not supported" },
        { """{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}""", 4, "tensor 'w': shape must hold non-negative integers, got -1" },
        { """{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}""", 4, "tensor 'w': shape must hold non-negative integers, got 1.5" },
        { """{"w": {"dtype": "F32", "data_offsets": [0, 4]}}""", 4, "tensor 'w' has no shape list" },
        { """{"w": {"dtype": "F32", "shape": [1099511627776, 1099511627776], "data_offsets": [0, 4]}}""", 4, "tensor 'w': shape [1099511627776, 1099511627776] is too large" },
        { """{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}""", 4, "tensor 'w': data_offsets must be [begin, end] with begin ≤ end, got [4, 0]" },
        { """{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}""", 8, "tensor 'w': data_offsets must be [begin, end]" },
        { """{"w": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 8]}}""", 8, "tensor 'w': shape [3, 2] of F32 is 24 bytes but data_offsets [0, 8] hold 8" },
        { """{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}""", 8, "tensor 'w' ends at byte 16 of a 8-byte data section" },
        { """{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}""", 12, "tensor 'b' overlaps 'a'" },
        { """{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}""", 12, "tensor 'b' starts at byte 8, leaving bytes 4–8 of the data section unused" },
        { """{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""", 12, "the tensors end at byte 4 of a 12-byte data section" },
        { """{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", 8, "tensor 'a' is listed twice" },
        { """{"__metadata__": {"format": 1}}""", 0, "'__metadata__.format' must be a string" },
        { """{"__metadata__": "pt"}""", 0, "'__metadata__' must be an object of strings" },
    };

    [Theory]
    [MemberData(nameof(BrokenHeaders))]
    public void A_broken_header_is_one_line_naming_the_file_and_the_tensor(string header, int dataBytes, string expected)
    {
        string path = Write(header, dataBytes);

        var e = Assert.Throws<CheckpointException>(() => StateDictFiles.LoadSafeTensorsFile(path));

        Assert.StartsWith($"{path}: not a valid safetensors file: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(3L, -1L, "3 bytes, too short for the 8-byte header length")]
    [InlineData(64L, 1L << 40, "header length 1099511627776 is not between 2 and 100000000 bytes")]
    [InlineData(64L, 60L, "header length 60 runs past the end of the file (64 bytes)")]
    public void A_header_length_outside_the_file_is_refused_before_reading_it(long fileBytes, long declared, string expected)
    {
        string path = Path.Combine(dir, "len.safetensors");
        byte[] bytes = new byte[fileBytes];
        if (declared >= 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)declared);
        }

        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<CheckpointException>(() => SafeTensorsHeader.Read(path));
        Assert.Equal($"{path}: not a valid safetensors file: {expected}", e.Message);
    }

    [Fact]
    public void A_tensor_name_that_is_not_utf8_is_refused()
    {
        byte[] header = Encoding.UTF8.GetBytes("""{"w?": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""");
        header[Array.IndexOf(header, (byte)'?')] = 0xFF; // a byte that never occurs in UTF-8
        string path = Write(header, 4);

        var e = Assert.Throws<CheckpointException>(() => SafeTensorsHeader.Read(path));
        Assert.Contains("not valid UTF-8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sharded_weights_must_sit_where_the_index_says()
    {
        using Tensor one = ones(2);
        Safetensors.SaveStateDict(Path.Combine(dir, "s1.safetensors"), new Dictionary<string, Tensor> { ["a"] = one, ["b"] = one });
        Safetensors.SaveStateDict(Path.Combine(dir, "s2.safetensors"), new Dictionary<string, Tensor> { ["c"] = one });
        Safetensors.SaveStateDict(Path.Combine(dir, "s3.safetensors"), new Dictionary<string, Tensor> { ["x"] = one, ["a"] = one });
        string index = Path.Combine(dir, StateDictFiles.SafeTensorsIndex);

        string Refusal(string weightMap)
        {
            File.WriteAllText(index, "{\"weight_map\": {" + weightMap + "}}");
            return Assert.Throws<CheckpointException>(() => StateDictFiles.Inspect(dir)).Message;
        }

        Assert.Contains("the index puts 'c' in shard 's1.safetensors', which does not hold it",
            Refusal("\"a\": \"s1.safetensors\", \"b\": \"s1.safetensors\", \"c\": \"s1.safetensors\""), StringComparison.Ordinal);
        Assert.Contains("'a' is in shard 's3.safetensors' but the index puts it in 's1.safetensors'",
            Refusal("\"a\": \"s1.safetensors\", \"b\": \"s1.safetensors\", \"c\": \"s2.safetensors\", \"x\": \"s3.safetensors\""), StringComparison.Ordinal);
        Assert.Contains("shard 's1.safetensors' holds 'b', which the index does not list",
            Refusal("\"a\": \"s1.safetensors\", \"c\": \"s2.safetensors\""), StringComparison.Ordinal);
        Assert.Contains("the index puts 'd' in shard 's2.safetensors', which does not hold it",
            Refusal("\"a\": \"s1.safetensors\", \"b\": \"s1.safetensors\", \"c\": \"s2.safetensors\", \"d\": \"s2.safetensors\""), StringComparison.Ordinal);
        Assert.Contains("names '../s1.safetensors', which is not a file beside the index",
            Refusal("\"a\": \"../s1.safetensors\""), StringComparison.Ordinal);
        Assert.Contains("weight_map['a'] must be a shard file name", Refusal("\"a\": 3"), StringComparison.Ordinal);
        Assert.Contains("weight_map is empty", Refusal(string.Empty), StringComparison.Ordinal);

        File.WriteAllText(index, """{"weight_map": {"a": "s1.safetensors", "b": "s1.safetensors", "c": "s2.safetensors"}}""");
        CheckpointShapes shapes = StateDictFiles.Inspect(dir);
        Assert.Equal(6, shapes.ElementBound);
        Assert.Equal([2L], shapes.Shapes!["c"]);
    }

    private string Write(string header, int dataBytes) => Write(Encoding.UTF8.GetBytes(header), dataBytes);

    private string Write(byte[] header, int dataBytes)
    {
        string path = Path.Combine(dir, $"t{Guid.NewGuid():N}.safetensors");
        using var stream = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        stream.Write(new byte[dataBytes]);
        return path;
    }
}
