using Migu.Core;
using Migu.Models.Checkpoints;
using Migu.Models.T5;
using TorchSharp;

namespace Migu.Models.Tests.Checkpoints;

/// <summary>Hub ids resolved in a cache tree of our own, with HF's symlinked layout and with plain copies.</summary>
public sealed class HubCacheTests : IDisposable
{
    private const string Main = "0123456789abcdef0123456789abcdef01234567";
    private const string Older = "fedcba9876543210fedcba9876543210fedcba98";

    private readonly FakeHubCache cache = new();
    private readonly string saved = Directory.CreateTempSubdirectory("migu-hub-model").FullName;

    public HubCacheTests()
    {
        torch.manual_seed(11);
        using var model = new T5ForConditionalGeneration(T5Presets.All["t5-tiny"]);
        ModelCheckpoint.Save(model, saved);
    }

    public void Dispose()
    {
        cache.Dispose();
        Directory.Delete(saved, recursive: true);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_hub_id_is_the_snapshot_refs_main_names_and_loads_the_saved_weights(bool links)
    {
        string snapshot = cache.Add("acme/tiny-t5", saved, Main, links, "main");

        string dir = HubCache.Resolve("acme/tiny-t5", cache.Root);

        Assert.Equal(snapshot, dir);
        Assert.Equal(links, File.ResolveLinkTarget(Path.Combine(dir, "model.safetensors"), returnFinalTarget: false) is not null);
        using LanguageModel fromCache = ModelLoader.Load(dir);
        using LanguageModel original = ModelLoader.Load(saved);
        var expected = original.state_dict();
        var actual = fromCache.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
        {
            Assert.True(tensor.allclose(actual[name], rtol: 0, atol: 0), name);
        }
    }

    [Fact]
    public void A_revision_is_a_ref_under_refs_or_a_commit_under_snapshots()
    {
        string older = cache.Add("acme/tiny-t5", saved, Older, links: true, "v1.0", "pr/1");
        string main = cache.Add("acme/tiny-t5", saved, Main, links: true, "main");

        Assert.Equal(main, HubCache.Resolve("acme/tiny-t5", cache.Root));
        Assert.Equal(main, HubCache.Resolve("acme/tiny-t5@main", cache.Root));
        Assert.Equal(older, HubCache.Resolve("acme/tiny-t5@v1.0", cache.Root));
        Assert.Equal(older, HubCache.Resolve("acme/tiny-t5@pr/1", cache.Root));
        Assert.Equal(older, HubCache.Resolve($"acme/tiny-t5@{Older}", cache.Root));
    }

    [Fact]
    public void A_model_not_in_the_cache_names_where_it_looked_and_how_to_download_it()
    {
        var e = Assert.Throws<MiguUserException>(() => HubCache.Resolve("acme/absent", cache.Root));
        var pinned = Assert.Throws<MiguUserException>(() => HubCache.Resolve("acme/absent@v2", cache.Root));

        string repo = Path.Combine(cache.Root, "models--acme--absent");
        Assert.Equal(
            $"acme/absent: no such directory, and acme/absent is not in the Hugging Face cache (looked for {repo}; the cache is HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub); "
            + "download it with `hf download acme/absent` (or `huggingface-cli download acme/absent`)",
            e.Message);
        Assert.EndsWith("download it with `hf download acme/absent --revision v2` (or `huggingface-cli download acme/absent --revision v2`)", pinned.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_revision_not_in_the_cache_lists_what_is_there()
    {
        cache.Add("acme/tiny-t5", saved, Older, links: true, "v1.0");
        string repo = Path.Combine(cache.Root, "models--acme--tiny-t5");

        var noMain = Assert.Throws<MiguUserException>(() => HubCache.Resolve("acme/tiny-t5", cache.Root));
        var noTag = Assert.Throws<MiguUserException>(() => HubCache.Resolve("acme/tiny-t5@v2.0", cache.Root));
        var noCommit = Assert.Throws<MiguUserException>(() => HubCache.Resolve($"acme/tiny-t5@{Main}", cache.Root));

        Assert.Equal(
            $"acme/tiny-t5@main: revision not in the Hugging Face cache; {repo} holds refs: v1.0; snapshots: {Older}; "
            + "download it with `hf download acme/tiny-t5 --revision main` (or `huggingface-cli download acme/tiny-t5 --revision main`)",
            noMain.Message);
        Assert.StartsWith("acme/tiny-t5@v2.0: revision not in the Hugging Face cache; ", noTag.Message, StringComparison.Ordinal);
        Assert.StartsWith($"acme/tiny-t5@{Main}: revision not in the Hugging Face cache; ", noCommit.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ref_whose_snapshot_is_gone_says_so()
    {
        string snapshot = cache.Add("acme/tiny-t5", saved, Main, links: true, "main");
        Directory.Delete(snapshot, recursive: true);

        var e = Assert.Throws<MiguUserException>(() => HubCache.Resolve("acme/tiny-t5", cache.Root));

        Assert.StartsWith($"acme/tiny-t5@main: revision not in the Hugging Face cache (refs/main names {Main}, whose snapshot is missing); ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("t5-tiny")]
    [InlineData("/no/such/absolute/dir")]
    [InlineData("runs/a/b")]
    [InlineData("./acme/tiny-t5")]
    [InlineData("acme/tiny-t5@")]
    [InlineData("-acme/tiny-t5")]
    public void Arguments_that_are_not_hub_ids_pass_through_for_the_callers_own_checks(string argument)
    {
        cache.Add("acme/tiny-t5", saved, Main, links: true, "main");

        Assert.Equal(argument, HubCache.Resolve(argument, cache.Root));
    }

    [Fact]
    public void A_local_directory_of_the_same_name_wins_over_the_cache()
    {
        cache.Add("acme/tiny-t5", saved, Main, links: true, "main");
        string org = "migu-local-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(Path.Combine(org, "tiny-t5")); // relative: where the command runs
        try
        {
            Assert.Equal($"{org}/tiny-t5", HubCache.Resolve($"{org}/tiny-t5", cache.Root));
        }
        finally
        {
            Directory.Delete(org, recursive: true);
        }
    }

    [Fact]
    public void The_cache_root_follows_huggingface_hub_rules()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
            name => vars.FirstOrDefault(v => v.Name == name).Value;

        Assert.Equal("/c/hub", HubCache.RootFor(Env(("HF_HUB_CACHE", "/c/hub"), ("HUGGINGFACE_HUB_CACHE", "/old"), ("HF_HOME", "/h"))));
        Assert.Equal("/old", HubCache.RootFor(Env(("HUGGINGFACE_HUB_CACHE", "/old"), ("HF_HOME", "/h"))));
        Assert.Equal("/h/hub", HubCache.RootFor(Env(("HF_HOME", "/h"), ("XDG_CACHE_HOME", "/x"))));
        Assert.Equal("/x/huggingface/hub", HubCache.RootFor(Env(("XDG_CACHE_HOME", "/x"))));
        Assert.Equal(Path.Combine(home, ".cache", "huggingface", "hub"), HubCache.RootFor(Env(("HF_HUB_CACHE", ""))));
        Assert.Equal(Path.Combine(home, "models", "hub"), HubCache.RootFor(Env(("HF_HOME", "~/models"))));
    }
}
