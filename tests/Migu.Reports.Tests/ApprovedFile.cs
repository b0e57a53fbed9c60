using System.Globalization;
using System.Text;

namespace Migu.Reports.Tests;

/// <summary>
/// Compares text with an approved copy committed under Fixtures/. On a difference the test fails
/// with a line diff and leaves the received text beside the test binaries; MIGU_APPROVE=1 writes
/// the received text over the approved file in the source tree instead.
/// </summary>
internal static class ApprovedFile
{
    public static void Verify(string received, string approvedName)
    {
        string source = Path.Combine(RepoRoot(), "tests", "Migu.Reports.Tests", "Fixtures", approvedName);
        if (Environment.GetEnvironmentVariable("MIGU_APPROVE") == "1")
        {
            File.WriteAllText(source, received);
            return;
        }

        string approvedPath = Path.Combine(AppContext.BaseDirectory, "Fixtures", approvedName);
        string approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : string.Empty;
        if (approved == received)
        {
            return;
        }

        string receivedPath = Path.Combine(AppContext.BaseDirectory, approvedName + ".received");
        File.WriteAllText(receivedPath, received);
        Assert.Fail($"{approvedName} differs from the approved copy {source}:\n{Diff(approved, received)}\n" +
            $"received: {receivedPath}. If the change is intended, rerun with MIGU_APPROVE=1 and commit the file.");
    }

    /// <summary>Lines only in the approved text ("-") and only in the received text ("+"), by longest common subsequence.</summary>
    internal static string Diff(string approved, string received)
    {
        string[] a = approved.Split('\n');
        string[] b = received.Split('\n');
        int[,] lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
        {
            for (int j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var diff = new StringBuilder();
        int x = 0, y = 0, shown = 0;
        while ((x < a.Length || y < b.Length) && shown < 60)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                x++;
                y++;
            }
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                diff.Append(CultureInfo.InvariantCulture, $"-{x + 1,4}: {a[x]}\n");
                x++;
                shown++;
            }
            else
            {
                diff.Append(CultureInfo.InvariantCulture, $"+{y + 1,4}: {b[y]}\n");
                y++;
                shown++;
            }
        }

        return diff.ToString();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Migu.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("cannot find the repository root (Migu.slnx) above " + AppContext.BaseDirectory);
    }
}
