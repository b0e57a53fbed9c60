using System.Security.Cryptography;

namespace Migu.Models.Tests.Checkpoints;

/// <summary>
/// A Hugging Face hub cache in a temp folder, laid out as huggingface_hub lays it:
/// <c>models--ORG--NAME/{blobs, refs, snapshots}</c>, each snapshot file a relative symbolic link
/// to its blob (or, as on file systems without links, a plain copy).
/// </summary>
internal sealed class FakeHubCache : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("migu-hub-cache").FullName;

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>Puts every file of <paramref name="source"/> into snapshots/<paramref name="commit"/> and points <paramref name="refs"/> at it.</summary>
    public string Add(string repoId, string source, string commit, bool links, params string[] refs)
    {
        string repo = Path.Combine(Root, "models--" + repoId.Replace("/", "--", StringComparison.Ordinal));
        string snapshot = Directory.CreateDirectory(Path.Combine(repo, "snapshots", commit)).FullName;
        string blobs = Directory.CreateDirectory(Path.Combine(repo, "blobs")).FullName;
        foreach (string file in Directory.GetFiles(source))
        {
            string target = Path.Combine(snapshot, Path.GetFileName(file));
            if (links)
            {
                string blob = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
                File.Copy(file, Path.Combine(blobs, blob), overwrite: true);
                File.CreateSymbolicLink(target, Path.Combine("..", "..", "blobs", blob));
            }
            else
            {
                File.Copy(file, target);
            }
        }

        foreach (string name in refs)
        {
            string refFile = Path.Combine(repo, "refs", name);
            Directory.CreateDirectory(Path.GetDirectoryName(refFile)!);
            File.WriteAllText(refFile, commit); // huggingface_hub writes the bare hash, no newline
        }

        return snapshot;
    }
}
