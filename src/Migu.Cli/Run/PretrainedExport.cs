using Migu.Continual.Pretraining;
using Migu.Core.IO;
using Migu.Models.Checkpoints;

namespace Migu.Cli.Run;

/// <summary>
/// Puts a finished pre-training run's model at the top of its directory, so the directory itself is
/// a Hugging Face checkpoint: the weights and tokenizer files first, config.json last (a directory
/// with config.json is complete), then the per-domain copy is removed.
/// </summary>
internal static class PretrainedExport
{
    public static void Export(string checkpoint, string directory)
    {
        string config = Path.Combine(directory, ModelCheckpoint.ConfigFile);
        if (!Directory.Exists(checkpoint))
        {
            if (File.Exists(config))
            {
                return; // exported before
            }

            throw new Migu.Core.MiguUserException($"{directory}: the run finished but its checkpoint {checkpoint} is missing");
        }

        var files = PretrainingTokenizer.FileNames.Append(StateDictFiles.SafeTensors).Where(f => File.Exists(Path.Combine(checkpoint, f)));
        foreach (string file in files.Append(ModelCheckpoint.ConfigFile))
        {
            string source = Path.Combine(checkpoint, file);
            AtomicFile.Write(Path.Combine(directory, file), temp => File.Copy(source, temp, overwrite: true));
        }

        Directory.Delete(checkpoint, recursive: true);
    }
}
