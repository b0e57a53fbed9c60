using System.Text.RegularExpressions;
using Migu.Core;

namespace Migu.Models.Checkpoints;

/// <summary>
/// Turns a Hugging Face hub id, <c>ORG/NAME</c> or <c>ORG/NAME@REVISION</c>, into the snapshot
/// directory the local hub cache holds for it, without any network access. The cache is the one
/// huggingface_hub uses: <c>HF_HUB_CACHE</c> (or its older name <c>HUGGINGFACE_HUB_CACHE</c>), else
/// <c>HF_HOME/hub</c>, else <c>$XDG_CACHE_HOME/huggingface/hub</c>, else <c>~/.cache/huggingface/hub</c>.
/// In it, <c>models--ORG--NAME/refs/REVISION</c> holds a commit hash and
/// <c>models--ORG--NAME/snapshots/HASH/</c> the files (symbolic links into <c>blobs/</c>, or copies).
/// A revision is a branch or tag name found under <c>refs/</c> or a full commit hash found under
/// <c>snapshots/</c>; without one it is <c>main</c>. An existing local directory of the same name
/// always wins, and anything that is not shaped like a hub id (a preset, an absolute path) passes
/// through unchanged for the caller's own checks.
/// </summary>
public static partial class HubCache
{
    private const string DefaultRevision = "main";

    /// <summary>The cache directory the environment of this process names.</summary>
    public static string Root => RootFor(Environment.GetEnvironmentVariable);

    /// <summary>The cache directory <paramref name="environment"/> names, by huggingface_hub's rules.</summary>
    public static string RootFor(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Variable(string name) => environment(name) is { Length: > 0 } value ? ExpandHome(value) : null;
        if ((Variable("HF_HUB_CACHE") ?? Variable("HUGGINGFACE_HUB_CACHE")) is string hub)
        {
            return hub;
        }

        string home = Variable("HF_HOME")
            ?? Path.Combine(Variable("XDG_CACHE_HOME") ?? Path.Combine(UserHome(), ".cache"), "huggingface");
        return Path.Combine(home, "hub");
    }

    /// <summary>
    /// A model (or tokenizer) argument as a directory: the snapshot of a hub id in the cache of this
    /// process's environment; anything else unchanged.
    /// </summary>
    public static string Resolve(string modelArgument) => Resolve(modelArgument, Root);

    /// <summary>As <see cref="Resolve(string)"/>, in the cache at <paramref name="cacheRoot"/>.</summary>
    public static string Resolve(string modelArgument, string cacheRoot)
    {
        ArgumentNullException.ThrowIfNull(modelArgument);
        ArgumentNullException.ThrowIfNull(cacheRoot);
        if (Directory.Exists(modelArgument))
        {
            return modelArgument;
        }

        Match id = HubId().Match(modelArgument);
        if (!id.Success)
        {
            return modelArgument;
        }

        string org = id.Groups["org"].Value;
        string name = id.Groups["name"].Value;
        string? revision = id.Groups["rev"].Success ? id.Groups["rev"].Value : null;
        string repo = Path.Combine(cacheRoot, $"models--{org}--{name}");
        if (!Directory.Exists(repo))
        {
            throw new MiguUserException(
                $"{modelArgument}: no such directory, and {org}/{name} is not in the Hugging Face cache (looked for {repo}; "
                + $"the cache is HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub); download it with {DownloadCommand(org, name, revision)}");
        }

        string wanted = revision ?? DefaultRevision;
        string snapshots = Path.Combine(repo, "snapshots");
        string? hash = ReadRef(repo, wanted) ?? (CommitHash().IsMatch(wanted) ? wanted : null);
        string? snapshot = hash is null ? null : Path.Combine(snapshots, hash);
        if (snapshot is null || !Directory.Exists(snapshot))
        {
            string pointer = hash is not null && !string.Equals(hash, wanted, StringComparison.Ordinal) ? $" (refs/{wanted} names {hash}, whose snapshot is missing)" : string.Empty;
            throw new MiguUserException(
                $"{org}/{name}@{wanted}: revision not in the Hugging Face cache{pointer}; {repo} holds {Cached(repo)}; download it with {DownloadCommand(org, name, wanted)}");
        }

        return snapshot;
    }

    // A ref is a file under refs/ (tags and branches; refs/pr/N for pull requests) holding a commit hash.
    private static string? ReadRef(string repo, string revision)
    {
        if (revision.Split('/').Any(part => part is "" or "." or ".."))
        {
            return null;
        }

        string file = Path.Combine(repo, "refs", revision);
        return File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } hash ? hash : null;
    }

    private static string Cached(string repo)
    {
        string refs = Path.Combine(repo, "refs");
        string snapshots = Path.Combine(repo, "snapshots");
        var names = Directory.Exists(refs)
            ? Directory.EnumerateFiles(refs, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(refs, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList()
            : [];
        var hashes = Directory.Exists(snapshots)
            ? Directory.EnumerateDirectories(snapshots).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : [];
        return $"refs: {(names.Count > 0 ? string.Join(", ", names) : "none")}; snapshots: {(hashes.Count > 0 ? string.Join(", ", hashes) : "none")}";
    }

    private static string DownloadCommand(string org, string name, string? revision) =>
        revision is null ? $"`hf download {org}/{name}` (or `huggingface-cli download {org}/{name}`)"
        : $"`hf download {org}/{name} --revision {revision}` (or `huggingface-cli download {org}/{name} --revision {revision}`)";

    private static string ExpandHome(string path) =>
        path == "~" ? UserHome()
        : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(UserHome(), path[2..])
        : path;

    private static string UserHome() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    // The hub's repository id rules: one slash; letters, digits, '-', '_', '.'; no leading '.', '-' or '_'.
    [GeneratedRegex(@"^(?<org>[A-Za-z0-9][A-Za-z0-9._-]{0,95})/(?<name>[A-Za-z0-9][A-Za-z0-9._-]{0,95})(?:@(?<rev>[^@\s]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex HubId();

    [GeneratedRegex("^[0-9a-f]{40}$", RegexOptions.CultureInvariant)]
    private static partial Regex CommitHash();
}
