using System.Collections;
using System.Text.Json;
using Migu.Core.IO;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Migu.Models.Checkpoints;

/// <summary>
/// Reads and writes Hugging Face weight files: <c>model.safetensors</c>, sharded safetensors with
/// <c>model.safetensors.index.json</c>, and PyTorch <c>pytorch_model.bin</c> (also sharded).
/// </summary>
public static class StateDictFiles
{
    public const string SafeTensors = "model.safetensors";
    public const string SafeTensorsIndex = "model.safetensors.index.json";
    public const string PyTorchBin = "pytorch_model.bin";
    public const string PyTorchBinIndex = "pytorch_model.bin.index.json";

    /// <summary>True when <paramref name="directory"/> holds weights in one of the supported layouts.</summary>
    public static bool Exists(string directory) =>
        new[] { SafeTensors, SafeTensorsIndex, PyTorchBin, PyTorchBinIndex }.Any(f => File.Exists(Path.Combine(directory, f)));

    /// <summary>All tensors of the checkpoint in <paramref name="directory"/>, by key, on the CPU.</summary>
    public static Dictionary<string, Tensor> Load(string directory)
    {
        string single = Path.Combine(directory, SafeTensors);
        if (File.Exists(single))
        {
            return LoadSafeTensors(single);
        }

        string index = Path.Combine(directory, SafeTensorsIndex);
        if (File.Exists(index))
        {
            return LoadShards(directory, index, LoadSafeTensors);
        }

        string bin = Path.Combine(directory, PyTorchBin);
        if (File.Exists(bin))
        {
            return LoadPickle(bin);
        }

        string binIndex = Path.Combine(directory, PyTorchBinIndex);
        if (File.Exists(binIndex))
        {
            return LoadShards(directory, binIndex, LoadPickle);
        }

        throw new CheckpointException($"{directory}: no weights found (expected {SafeTensors}, {SafeTensorsIndex}, {PyTorchBin} or {PyTorchBinIndex})");
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

    /// <summary>All tensors of one safetensors file, by key, on the CPU; an unreadable file is a <see cref="CheckpointException"/>.</summary>
    public static Dictionary<string, Tensor> LoadSafeTensorsFile(string path) => LoadSafeTensors(path);

    private static Dictionary<string, Tensor> LoadSafeTensors(string path)
    {
        try
        {
            return Safetensors.LoadStateDict(path, null!);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException($"{path}: not a readable safetensors file ({e.Message})", e);
        }
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

    private static Dictionary<string, Tensor> LoadShards(string directory, string indexPath, Func<string, Dictionary<string, Tensor>> loadOne)
    {
        JsonElement map;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexPath));
            map = doc.RootElement.GetProperty("weight_map").Clone();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new CheckpointException($"{indexPath}: malformed shard index, expected an object with 'weight_map' ({e.Message})", e);
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (string shard in map.EnumerateObject().Select(p => p.Value.GetString()!).Distinct())
        {
            string shardPath = Path.Combine(directory, shard);
            if (!File.Exists(shardPath))
            {
                throw new CheckpointException($"{indexPath}: shard '{shard}' is listed but missing");
            }

            foreach (var (key, t) in loadOne(shardPath))
            {
                result[key] = t;
            }
        }

        return result;
    }
}
