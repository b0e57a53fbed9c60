// Makes TorchSharp's native library load on systems whose libstdc++ is older than the one it
// was linked against (Debian 12 / Ubuntu 22.04 ship GLIBCXX_3.4.30; libLibTorchSharp.so 0.107
// asks for GLIBCXX_3.4.32 for one symbol that no relocation uses). It marks that version
// requirement weak (VER_FLG_WEAK) in .gnu.version_r, so the dynamic loader no longer refuses
// the library when the version is missing. Where the version exists, nothing changes at load.
//
// This one file is compiled twice: by MSBuild's RoslynCodeTaskFactory as a build task (see
// build/TorchSharpRuntime.targets) and by the Core test project, which defines
// MIGU_ELF_PATCH_NO_TASK to leave out the MSBuild-facing class.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Migu.Build
{
    /// <summary>Outcome of patching one file.</summary>
    public enum ElfPatchResult
    {
        /// <summary>A requirement was found and its weak flag has been set now.</summary>
        Patched,
        /// <summary>Every matching requirement already carried the weak flag.</summary>
        AlreadyWeak,
        /// <summary>The file does not require any of the given versions.</summary>
        NotRequired,
    }

    /// <summary>Sets VER_FLG_WEAK on chosen version requirements of a 64-bit little-endian ELF file.</summary>
    public static class GlibcxxWeakener
    {
        /// <summary>The version TorchSharp 0.107.0's native library needs and Debian 12 lacks.</summary>
        public const string DefaultVersion = "GLIBCXX_3.4.32";

        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>
        /// Patches <paramref name="path"/> in place (through a temporary file and a rename, so a
        /// hard link into a package cache is never written through). Keeps the file's timestamp, so
        /// incremental copies still see it as up to date. Idempotent.
        /// </summary>
        public static ElfPatchResult PatchFile(string path, IReadOnlyCollection<string> versions)
        {
            byte[] image = File.ReadAllBytes(path);
            ElfPatchResult result = PatchImage(image, versions, path);
            if (result != ElfPatchResult.Patched)
            {
                return result;
            }

            DateTime stamp = File.GetLastWriteTimeUtc(path);
            string temp = path + ".weakening";
            File.WriteAllBytes(temp, image);
            File.SetLastWriteTimeUtc(temp, stamp);
            // A rename, never a write through the old inode: the output may be a hard link into the NuGet cache.
            File.Replace(temp, path, null);
            return result;
        }

        /// <summary>Patches an in-memory ELF image; <paramref name="source"/> only names it in errors.</summary>
        public static ElfPatchResult PatchImage(byte[] image, IReadOnlyCollection<string> versions, string source)
        {
            bool sawMatch = false;
            bool changed = false;
            ForEachRequirement(image, source, (name, flagsAt) =>
            {
                if (!Contains(versions, name))
                {
                    return;
                }

                sawMatch = true;
                ushort flags = ReadU16(image, flagsAt, source);
                if ((flags & VerFlgWeak) == 0)
                {
                    WriteU16(image, flagsAt, (ushort)(flags | VerFlgWeak));
                    changed = true;
                }
            });

            if (changed)
            {
                return ElfPatchResult.Patched;
            }

            return sawMatch ? ElfPatchResult.AlreadyWeak : ElfPatchResult.NotRequired;
        }

        /// <summary>The vna_flags of one version requirement, or null when the image does not require it.</summary>
        public static ushort? ReadFlags(byte[] image, string version)
        {
            ushort? found = null;
            ForEachRequirement(image, "image", (name, flagsAt) =>
            {
                if (name == version)
                {
                    found = ReadU16(image, flagsAt, "image");
                }
            });
            return found;
        }

        /// <summary>Calls <paramref name="visit"/> with each required version's name and the offset of its vna_flags.</summary>
        private static void ForEachRequirement(byte[] image, string source, Action<string, int> visit)
        {
            RequireElf64LittleEndian(image, source);
            ulong sectionTable = ReadU64(image, 0x28, source);
            ushort entrySize = ReadU16(image, 0x3A, source);
            ushort sectionCount = ReadU16(image, 0x3C, source);
            for (int s = 0; s < sectionCount; s++)
            {
                int header = Checked(sectionTable + (ulong)s * entrySize, image, 64, source);
                if (ReadU32(image, header + 4, source) != ShtGnuVerneed)
                {
                    continue;
                }

                // Section header: sh_offset at 0x18, sh_link (the string table) at 0x28, sh_info (entry count) at 0x2C.
                int need = Checked(ReadU64(image, header + 0x18, source), image, 0, source);
                uint link = ReadU32(image, header + 0x28, source);
                uint needCount = ReadU32(image, header + 0x2C, source);
                int linkHeader = Checked(sectionTable + (ulong)link * entrySize, image, 64, source);
                int strings = Checked(ReadU64(image, linkHeader + 0x18, source), image, 0, source);
                for (uint n = 0; n < needCount; n++)
                {
                    // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
                    ushort auxCount = ReadU16(image, need + 2, source);
                    int aux = need + (int)ReadU32(image, need + 8, source);
                    for (ushort a = 0; a < auxCount; a++)
                    {
                        // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
                        visit(ReadCString(image, strings + (int)ReadU32(image, aux + 8, source), source), aux + 4);
                        aux += (int)ReadU32(image, aux + 12, source);
                    }

                    need += (int)ReadU32(image, need + 12, source);
                }
            }
        }

        private static bool Contains(IReadOnlyCollection<string> versions, string name)
        {
            foreach (string v in versions)
            {
                if (string.Equals(v, name, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        private static void RequireElf64LittleEndian(byte[] image, string source)
        {
            if (image.Length < 64 || image[0] != 0x7F || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            {
                throw new InvalidDataException($"{source}: not an ELF file");
            }

            if (image[4] != 2 || image[5] != 1)
            {
                throw new InvalidDataException($"{source}: only 64-bit little-endian ELF files are supported");
            }
        }

        private static int Checked(ulong offset, byte[] image, int length, string source)
        {
            if (offset > (ulong)(image.Length - length))
            {
                throw new InvalidDataException($"{source}: ELF offset 0x{offset:X} lies outside the file");
            }

            return (int)offset;
        }

        private static ushort ReadU16(byte[] b, int at, string source)
        {
            Checked((ulong)at, b, 2, source);
            return (ushort)(b[at] | (b[at + 1] << 8));
        }

        private static uint ReadU32(byte[] b, int at, string source)
        {
            Checked((ulong)at, b, 4, source);
            return (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));
        }

        private static ulong ReadU64(byte[] b, int at, string source)
        {
            return ReadU32(b, at, source) | ((ulong)ReadU32(b, at + 4, source) << 32);
        }

        private static void WriteU16(byte[] b, int at, ushort value)
        {
            b[at] = (byte)value;
            b[at + 1] = (byte)(value >> 8);
        }

        private static string ReadCString(byte[] b, int at, string source)
        {
            Checked((ulong)at, b, 1, source);
            int end = Array.IndexOf(b, (byte)0, at);
            if (end < 0)
            {
                throw new InvalidDataException($"{source}: unterminated string in .dynstr");
            }

            return Encoding.ASCII.GetString(b, at, end - at);
        }
    }

#if !MIGU_ELF_PATCH_NO_TASK
    /// <summary>MSBuild task: weakens the GLIBCXX requirement of every given native library.</summary>
    public sealed class WeakenGlibcxxRequirement : Microsoft.Build.Utilities.Task
    {
        /// <summary>Files to patch; missing files are skipped.</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <summary>Semicolon-separated version names to mark weak.</summary>
        public string Versions { get; set; } = GlibcxxWeakener.DefaultVersion;

        public override bool Execute()
        {
            string[] versions = Versions.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries);
            foreach (Microsoft.Build.Framework.ITaskItem item in Files)
            {
                string path = item.ItemSpec;
                if (!File.Exists(path))
                {
                    continue;
                }

                try
                {
                    ElfPatchResult result = GlibcxxWeakener.PatchFile(path, versions);
                    if (result == ElfPatchResult.Patched)
                    {
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, "Migu: marked {0} weak in {1}", Versions, path);
                    }
                }
                catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
                {
                    Log.LogError("Migu: cannot patch {0}: {1}", path, e.Message);
                }
            }

            return !Log.HasLoggedErrors;
        }
    }
#endif
}
