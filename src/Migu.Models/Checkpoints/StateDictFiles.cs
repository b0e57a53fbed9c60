using System.Collections;
using System.Text.Json;
using Migu.Core.IO;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Migu.Models.Checkpoints;

/// <summary>
/// What a checkpoint holds, known before any of it is allocated: every tensor's shape when the
/// weights are safetensors (read from the validated headers), and a bound on the number of
/// elements either way (pickled weights are at least one byte per element).
/// </summary>
public sealed class CheckpointShapes
{
    internal CheckpointShapes(string source, IReadOnlyDictionary<string, IReadOnlyList<long>>? shapes, long elementBound)
    {
        Source = source;
        Shapes = shapes;
        ElementBound = elementBound;
    }

    /// <summary>The weights file or shard index, for messages.</summary>
    public string Source { get; }

    /// <summary>Shapes by key; null for pickled (.bin) weights, whose shapes are only known once loaded.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<long>>? Shapes { get; }

    /// <summary>No model built from this checkpoint can have more parameter elements than this.</summary>
    public long ElementBound { get; }
}

/// <summary>
/// Reads and writes Hugging Face weight files: <c>model.safetensors</c>, sharded safetensors with
/// <c>model.safetensors.index.json</c>, and PyTorch <c>pytorch_model.bin</c> (also sharded).
/// Safetensors headers and shard indexes are validated in full before any tensor is allocated.
/// </summary>
public static class StateDictFiles
{
    public const string SafeTensors = "model.safetensors";
    public const string SafeTensorsIndex = "model.safetensors.index.json";
    public const string PyTorchBin = "pytorch_model.bin";
    public const string PyTorchBinIndex = "pytorch_model.bin.index.json";

    private enum Layout
    {
        SafeTensors,
        SafeTensorsShards,
        Pickle,
        PickleShards,
    }

    /// <summary>True when <paramref name="directory"/> holds weights in one of the supported layouts.</summary>
    public static bool Exists(string directory) =>
        new[] { SafeTensors, SafeTensorsIndex, PyTorchBin, PyTorchBinIndex }.Any(f => File.Exists(Path.Combine(directory, f)));

    /// <summary>
    /// The shapes (safetensors) or size bound (pickle) of the checkpoint in <paramref name="directory"/>,
    /// from its validated headers and index; nothing is allocated for the tensors.
    /// </summary>
    public static CheckpointShapes Inspect(string directory)
    {
        var (layout, path) = Find(directory);
        switch (layout)
        {
            case Layout.SafeTensors:
                return ShapesOf(path, [SafeTensorsHeader.Read(path)]);
            case Layout.SafeTensorsShards:
                var index = ShardIndex.Read(path);
                return ShapesOf(path, index.CheckedHeaders());
            case Layout.Pickle:
                return new CheckpointShapes(path, null, new FileInfo(path).Length);
            default:
                var shards = ShardIndex.Read(path);
                return new CheckpointShapes(path, null, shards.Shards.Sum(s => new FileInfo(Path.Combine(directory, s)).Length));
        }
    }

    /// <summary>All tensors of the checkpoint in <paramref name="directory"/>, by key, on the CPU.</summary>
    public static Dictionary<string, Tensor> Load(string directory)
    {
        var (layout, path) = Find(directory);
        return layout switch
        {
            Layout.SafeTensors => SafeTensorsHeader.Load(path),
            Layout.SafeTensorsShards => ShardIndex.Read(path).LoadSafeTensors(),
            Layout.Pickle => LoadPickle(path),
            _ => ShardIndex.Read(path).Load(LoadPickle),
        };
    }

    /// <summary>Writes <paramref name="state"/> as <c>model.safetensors</c> atomically (temp file, then rename).</summary>
    public static void Save(string directory, IReadOnlyDictionary<string, Tensor> state) =>
        SaveSafeTensorsFile(Path.Combine(directory, SafeTensors), state);

    /// <summary>Writes <paramref name="state"/> (any device, any layout) as one safetensors file at <paramref name="path"/>, atomically.</summary>
    public static void SaveSafeTensorsFile(string path, IReadOnlyDictionary<string, Tensor> state)
    {
        var contiguous = state.ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous());
        try
        {
            AtomicFile.Write(path, temp => Safetensors.SaveStateDict(temp, contiguous));
        }
        finally
        {
            foreach (var (key, t) in contiguous)
            {
                if (!ReferenceEquals(t, state[key]))
                {
                    t.Dispose();
                }
            }
        }
    }

    /// <summary>All tensors of one safetensors file, by key, on the CPU; a file that is not valid is a <see cref="CheckpointException"/>.</summary>
    public static Dictionary<string, Tensor> LoadSafeTensorsFile(string path) => SafeTensorsHeader.Load(path);

    private static (Layout Layout, string Path) Find(string directory)
    {
        foreach (var (layout, name) in new[]
        {
            (Layout.SafeTensors, SafeTensors), (Layout.SafeTensorsShards, SafeTensorsIndex),
            (Layout.Pickle, PyTorchBin), (Layout.PickleShards, PyTorchBinIndex),
        })
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return (layout, path);
            }
        }

        throw new CheckpointException($"{directory}: no weights found (expected {SafeTensors}, {SafeTensorsIndex}, {PyTorchBin} or {PyTorchBinIndex})");
    }

    private static CheckpointShapes ShapesOf(string source, IEnumerable<SafeTensorsHeader> headers)
    {
        var shapes = new Dictionary<string, IReadOnlyList<long>>(StringComparer.Ordinal);
        long elements = 0;
        foreach (SafeTensorsEntry t in headers.SelectMany(h => h.Tensors))
        {
            shapes[t.Name] = t.Shape;
            elements += t.Shape.Aggregate(1L, (a, b) => a * b); // each product ≤ the file's bytes: checked by the header
        }

        return new CheckpointShapes(source, shapes, elements);
    }

    private static Dictionary<string, Tensor> LoadPickle(string path)
    {
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception e)
        {
            throw new CheckpointException($"{path}: not a readable PyTorch state dict ({e.Message})", e);
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Value is Tensor t)
            {
                result[(string)entry.Key] = t;
            }
        }

        return result;
    }

    /// <summary>
    /// A shard index (<c>{"weight_map": {key: shard file}}</c>): the shards are plain file names
    /// beside the index, each present, and every key sits in the shard the index names, and only there.
    /// </summary>
    private sealed class ShardIndex
    {
        private readonly string indexPath;
        private readonly string directory;
        private readonly Dictionary<string, string> shardOf;

        private ShardIndex(string indexPath, Dictionary<string, string> shardOf)
        {
            this.indexPath = indexPath;
            directory = Path.GetDirectoryName(indexPath) ?? ".";
            this.shardOf = shardOf;
            Shards = [.. shardOf.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        }

        public IReadOnlyList<string> Shards { get; }

        public static ShardIndex Read(string indexPath)
        {
            var shardOf = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
                if (doc.RootElement.ValueKind != JsonValueKind.Object
                    || !doc.RootElement.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
                {
                    throw new CheckpointException($"{indexPath}: malformed shard index, expected an object with a 'weight_map' object");
                }

                foreach (JsonProperty p in map.EnumerateObject())
                {
                    string shard = p.Value.ValueKind == JsonValueKind.String
                        ? p.Value.GetString()!
                        : throw new CheckpointException($"{indexPath}: weight_map['{p.Name}'] must be a shard file name");
                    if (shard.Length == 0 || shard is "." or ".." || Path.GetFileName(shard) != shard
                        || shard.IndexOfAny(['/', '\\', '\0']) >= 0)
                    {
                        throw new CheckpointException($"{indexPath}: weight_map['{p.Name}'] names '{shard}', which is not a file beside the index");
                    }

                    if (!shardOf.TryAdd(p.Name, shard))
                    {
                        throw new CheckpointException($"{indexPath}: weight_map lists '{p.Name}' twice");
                    }
                }
            }
            catch (JsonException e)
            {
                throw new CheckpointException($"{indexPath}: malformed shard index ({e.Message})", e);
            }
            catch (InvalidOperationException e)
            {
                throw new CheckpointException($"{indexPath}: malformed shard index (a name is not valid UTF-8)", e);
            }

            if (shardOf.Count == 0)
            {
                throw new CheckpointException($"{indexPath}: weight_map is empty");
            }

            var index = new ShardIndex(indexPath, shardOf);
            foreach (string shard in index.Shards)
            {
                if (!File.Exists(Path.Combine(index.directory, shard)))
                {
                    throw new CheckpointException($"{indexPath}: shard '{shard}' is listed but missing");
                }
            }

            return index;
        }

        /// <summary>Every shard's validated header, after checking that they hold exactly the keys the index puts in them.</summary>
        public List<SafeTensorsHeader> CheckedHeaders()
        {
            var headers = Shards.Select(s => SafeTensorsHeader.Read(Path.Combine(directory, s))).ToList();
            for (int i = 0; i < Shards.Count; i++)
            {
                CheckKeys(Shards[i], headers[i].Tensors.Select(t => t.Name));
            }

            return headers;
        }

        /// <summary>Every shard's headers checked against the index, then every shard loaded.</summary>
        public Dictionary<string, Tensor> LoadSafeTensors()
        {
            CheckedHeaders(); // before anything is allocated
            return Load(SafeTensorsHeader.Load);
        }

        /// <summary>Loads every shard with <paramref name="loadOne"/> and checks its keys against the index.</summary>
        public Dictionary<string, Tensor> Load(Func<string, Dictionary<string, Tensor>> loadOne)
        {
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            try
            {
                foreach (string shard in Shards)
                {
                    Dictionary<string, Tensor> part = loadOne(Path.Combine(directory, shard));
                    try
                    {
                        CheckKeys(shard, part.Keys);
                    }
                    catch
                    {
                        foreach (Tensor t in part.Values)
                        {
                            t.Dispose();
                        }

                        throw;
                    }

                    foreach (var (key, t) in part)
                    {
                        result.Add(key, t); // unique: each key sits in one shard
                    }
                }
            }
            catch
            {
                foreach (Tensor t in result.Values)
                {
                    t.Dispose();
                }

                throw;
            }

            return result;
        }

        private void CheckKeys(string shard, IEnumerable<string> keys)
        {
            var held = new HashSet<string>(keys, StringComparer.Ordinal);
            string? stray = held.FirstOrDefault(k => !shardOf.TryGetValue(k, out string? s) || s != shard);
            if (stray is not null)
            {
                throw new CheckpointException(shardOf.TryGetValue(stray, out string? other)
                    ? $"{indexPath}: '{stray}' is in shard '{shard}' but the index puts it in '{other}'"
                    : $"{indexPath}: shard '{shard}' holds '{stray}', which the index does not list");
            }

            string? absent = shardOf.Where(kv => kv.Value == shard && !held.Contains(kv.Key)).Select(kv => kv.Key).FirstOrDefault();
            if (absent is not null)
            {
                throw new CheckpointException($"{indexPath}: the index puts '{absent}' in shard '{shard}', which does not hold it");
            }
        }
    }
}
