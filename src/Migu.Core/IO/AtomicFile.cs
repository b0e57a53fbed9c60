using System.Text;

namespace Migu.Core.IO;

/// <summary>
/// Writes a file so that a reader sees either the old file or the whole new one, never a torn
/// one: the content goes to a temp file beside the target, which is then renamed over it.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) =>
        Write(path, temp => File.WriteAllText(temp, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)));

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, temp => File.WriteAllBytes(temp, bytes));

    /// <summary>Lets <paramref name="writeTemp"/> fill a temp path, then renames it to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> writeTemp)
    {
        ArgumentNullException.ThrowIfNull(writeTemp);
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        // A unique temp name: two writers of one directory never share a temp file.
        string temp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            writeTemp(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
