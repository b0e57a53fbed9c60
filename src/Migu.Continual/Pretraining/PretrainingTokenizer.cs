using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Continual.Runs;
using Migu.Core;
using Migu.Core.IO;
using Migu.Models;
using Migu.Models.Tokenizers;

namespace Migu.Continual.Pretraining;

/// <summary>
/// The tokenizer files of a pre-training run, written once into the run's <c>tokenizer/</c> folder
/// and copied beside every checkpoint: a given tokenizer's (or the continued checkpoint's) files as
/// they are, or the embedded compact-2k tokenizer's. When the objective needs special tokens that
/// the tokenizer lacks — &lt;mask&gt; for masked LM, 100 sentinels &lt;extra_id_N&gt; for span
/// corruption — and it is a tokenizer.json, they are appended as added special tokens after its last
/// id (the sentinels counted down from the top, as T5's tokenizers number them), and
/// tokenizer_config.json names them, so transformers' tokenizer gives the same ids.
/// </summary>
public static class PretrainingTokenizer
{
    /// <summary>The run folder the files live in.</summary>
    public const string FolderName = "tokenizer";

    /// <summary>Sentinels added for span corruption (T5's count).</summary>
    public const int SentinelCount = 100;

    /// <summary>Files that make up a tokenizer (and a decoder's generation settings) in a Hugging Face checkpoint.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "spiece.model", "tokenizer.model", "vocab.json", "merges.txt", "generation_config.json"];

    private const string TokenizerJson = "tokenizer.json";
    private const string TokenizerConfig = "tokenizer_config.json";

    private static readonly JsonSerializerOptions Written = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    /// <summary>
    /// The run's tokenizer in <paramref name="directory"/>, made there first if absent (atomically) from
    /// <paramref name="source"/> (a tokenizer or checkpoint folder; null = the embedded compact tokenizer).
    /// </summary>
    public static ITextTokenizer Prepare(string? source, PretrainObjective objective, string directory)
    {
        if (Directory.Exists(directory))
        {
            return TokenizerLoader.Load(directory); // a resumed run keeps the ids it started with
        }

        RunStore.WriteDirectory(directory, temp =>
        {
            if (source is null)
            {
                EmbeddedTokenizer.WriteCompactFiles(temp);
            }
            else
            {
                CopyFiles(source, temp);
            }

            ITextTokenizer tokenizer = TokenizerLoader.Load(temp);
            ObjectiveTokens found = ObjectiveTokens.Of(tokenizer);
            string name = source ?? $"the embedded {EmbeddedTokenizer.CompactName} tokenizer";
            if (objective == PretrainObjective.Mlm && found.Mask is null)
            {
                AddSpecialTokens(temp, [ObjectiveTokens.MaskText], tokenizer.VocabSize, name, config => config["mask_token"] = ObjectiveTokens.MaskText);
            }
            else if (objective == PretrainObjective.Span && found.Sentinels.Count == 0)
            {
                // Ids in increasing order name the sentinels from the top down: the last id is <extra_id_0>.
                string[] byId = [.. Enumerable.Range(0, SentinelCount).Reverse().Select(ObjectiveTokens.SentinelText)];
                AddSpecialTokens(temp, byId, tokenizer.VocabSize, name, config =>
                    config["additional_special_tokens"] = new JsonArray([.. Enumerable.Range(0, SentinelCount).Select(i => (JsonNode)ObjectiveTokens.SentinelText(i))]));
            }
        });

        return TokenizerLoader.Load(directory);
    }

    /// <summary>Copies the tokenizer files present in <paramref name="source"/> into <paramref name="target"/>.</summary>
    public static void CopyFiles(string source, string target)
    {
        if (!Directory.Exists(source))
        {
            throw new MiguUserException($"{source}: no such tokenizer folder");
        }

        Directory.CreateDirectory(target);
        foreach (string file in FileNames.Where(f => File.Exists(Path.Combine(source, f))))
        {
            File.Copy(Path.Combine(source, file), Path.Combine(target, file), overwrite: true);
        }
    }

    private static void AddSpecialTokens(string directory, string[] contents, int firstId, string name, Action<JsonObject> nameInConfig)
    {
        string jsonPath = Path.Combine(directory, TokenizerJson);
        if (!File.Exists(jsonPath))
        {
            throw new MiguUserException(
                $"{name}: the tokenizer lacks {contents[^1]}, which the objective needs, and has no tokenizer.json to add it to; use a tokenizer that has it");
        }

        JsonObject root = JsonNode.Parse(File.ReadAllText(jsonPath))?.AsObject()
            ?? throw new MiguUserException($"{jsonPath}: not a JSON object");
        if (root["added_tokens"] is not JsonArray added)
        {
            added = [];
            root["added_tokens"] = added;
        }

        for (int i = 0; i < contents.Length; i++)
        {
            added.Add(new JsonObject
            {
                ["id"] = firstId + i,
                ["content"] = contents[i],
                ["single_word"] = false,
                ["lstrip"] = false,
                ["rstrip"] = false,
                ["normalized"] = false,
                ["special"] = true,
            });
        }

        AtomicFile.WriteAllText(jsonPath, root.ToJsonString(Written));
        string configPath = Path.Combine(directory, TokenizerConfig);
        JsonObject config = File.Exists(configPath)
            ? JsonNode.Parse(File.ReadAllText(configPath))?.AsObject() ?? []
            : [];
        nameInConfig(config);
        AtomicFile.WriteAllText(configPath, config.ToJsonString(Written));
    }
}
