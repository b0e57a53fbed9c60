using System.Text.Json;

namespace Migu.Models.Tests.Tokenizers;

/// <summary>Fixtures/tokenizers: tokenizers saved by transformers and their reference encodings (tools/parity_tokenizers.py).</summary>
internal static class TokenizerFixtures
{
    public static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers");

    public static readonly JsonElement Golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "golden.json"))).RootElement;

    public static string Dir(string family) => Path.Combine(Root, family);

    public static IEnumerable<Case> Cases(string family, string key = "cases") =>
        Golden.GetProperty(family).GetProperty(key).EnumerateArray().Select(c => new Case(
            c.GetProperty("text").GetString()!,
            Ints(c.GetProperty("ids")),
            Ints(c.GetProperty("ids_no_special")),
            c.GetProperty("decoded_skip").GetString()!,
            c.GetProperty("decoded_keep").GetString()!));

    public static int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];

    /// <summary>A fresh directory holding copies of some of a fixture's files.</summary>
    public static string CopyOf(string family, params string[] files)
    {
        string dir = Path.Combine(Path.GetTempPath(), "migu-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (string f in files)
        {
            File.Copy(Path.Combine(Dir(family), f), Path.Combine(dir, f));
        }

        return dir;
    }

    public sealed record Case(string Text, int[] Ids, int[] IdsNoSpecial, string DecodedSkip, string DecodedKeep)
    {
        public override string ToString() => JsonSerializer.Serialize(Text);
    }
}
