using System.Runtime.InteropServices;
using System.Text;
using Migu.Build;

namespace Migu.Core.Tests;

public partial class ElfPatchTests
{
    private const string Old = "GLIBCXX_3.4.30";
    private const string New = GlibcxxWeakener.DefaultVersion;

    [Fact]
    public void Patching_sets_the_weak_flag_on_the_named_version_only()
    {
        byte[] image = CraftedElf.Build((Old, 0), (New, 0));

        ElfPatchResult result = GlibcxxWeakener.PatchImage(image, [New], "crafted");

        Assert.Equal(ElfPatchResult.Patched, result);
        Assert.Equal((ushort)2, GlibcxxWeakener.ReadFlags(image, New));
        Assert.Equal((ushort)0, GlibcxxWeakener.ReadFlags(image, Old));
    }

    [Fact]
    public void A_second_run_changes_nothing()
    {
        byte[] image = CraftedElf.Build((Old, 0), (New, 0));
        GlibcxxWeakener.PatchImage(image, [New], "crafted");
        byte[] once = (byte[])image.Clone();

        ElfPatchResult again = GlibcxxWeakener.PatchImage(image, [New], "crafted");

        Assert.Equal(ElfPatchResult.AlreadyWeak, again);
        Assert.Equal(once, image);
    }

    [Fact]
    public void Other_flag_bits_are_kept()
    {
        byte[] image = CraftedElf.Build((New, 0x1));
        GlibcxxWeakener.PatchImage(image, [New], "crafted");
        Assert.Equal((ushort)0x3, GlibcxxWeakener.ReadFlags(image, New));
    }

    [Fact]
    public void A_library_without_the_requirement_is_left_alone()
    {
        byte[] image = CraftedElf.Build((Old, 0));
        byte[] before = (byte[])image.Clone();

        Assert.Equal(ElfPatchResult.NotRequired, GlibcxxWeakener.PatchImage(image, [New], "crafted"));
        Assert.Equal(before, image);
    }

    [Fact]
    public void Non_elf_input_is_refused_with_its_name()
    {
        var e = Assert.Throws<InvalidDataException>(() => GlibcxxWeakener.PatchImage(new byte[100], [New], "notes.txt"));
        Assert.Contains("notes.txt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_elf_is_refused_not_misread()
    {
        byte[] image = CraftedElf.Build((New, 0));
        Assert.Throws<InvalidDataException>(() => GlibcxxWeakener.PatchImage(image[..120], [New], "cut.so"));
    }

    [Fact]
    public void Patching_a_file_keeps_its_timestamp_and_never_writes_through_a_hard_link()
    {
        string dir = Directory.CreateTempSubdirectory("migu-elf").FullName;
        try
        {
            string original = Path.Combine(dir, "cache.so");
            string copy = Path.Combine(dir, "output.so");
            File.WriteAllBytes(original, CraftedElf.Build((New, 0)));
            var stamp = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(original, stamp);
            Assert.Equal(0, Link(original, copy)); // as a build that hard-links outputs to the NuGet cache would

            Assert.Equal(ElfPatchResult.Patched, GlibcxxWeakener.PatchFile(copy, [New]));

            Assert.Equal((ushort)2, GlibcxxWeakener.ReadFlags(File.ReadAllBytes(copy), New));
            Assert.Equal((ushort)0, GlibcxxWeakener.ReadFlags(File.ReadAllBytes(original), New));
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(copy));
            Assert.Equal(ElfPatchResult.AlreadyWeak, GlibcxxWeakener.PatchFile(copy, [New]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_build_patched_the_real_library_in_this_test_output()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"expected TorchSharp's native library at {path}");
        byte[] image = File.ReadAllBytes(path);

        Assert.Equal((ushort)2, GlibcxxWeakener.ReadFlags(image, New));
        Assert.Equal((ushort)0, GlibcxxWeakener.ReadFlags(image, Old));
        Assert.Equal(ElfPatchResult.AlreadyWeak, GlibcxxWeakener.PatchImage(image, [New], path));
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string newPath);

    /// <summary>A minimal ELF64 LE file: null section, .dynstr, and a .gnu.version_r needing libstdc++ versions.</summary>
    private static class CraftedElf
    {
        public static byte[] Build(params (string Version, ushort Flags)[] needs)
        {
            var strings = new MemoryStream();
            strings.WriteByte(0);
            int fileName = AddString(strings, "libstdc++.so.6");
            int[] names = needs.Select(n => AddString(strings, n.Version)).ToArray();
            byte[] dynstr = strings.ToArray();

            int dynstrAt = 64;
            int verneedAt = Align(dynstrAt + dynstr.Length, 8);
            int verneedSize = 16 + (16 * needs.Length);
            int sectionsAt = Align(verneedAt + verneedSize, 8);
            byte[] image = new byte[sectionsAt + (3 * 64)];

            // ELF header.
            Encoding.ASCII.GetBytes("\u007fELF").CopyTo(image, 0);
            image[4] = 2; // 64-bit
            image[5] = 1; // little-endian
            image[6] = 1;
            Put16(image, 0x10, 3); // ET_DYN
            Put16(image, 0x12, 62); // x86-64
            Put64(image, 0x28, (ulong)sectionsAt);
            Put16(image, 0x34, 64);
            Put16(image, 0x3A, 64);
            Put16(image, 0x3C, 3);
            Put16(image, 0x3E, 0);

            dynstr.CopyTo(image, dynstrAt);

            // Elf64_Verneed followed by its Vernaux entries.
            Put16(image, verneedAt, 1);
            Put16(image, verneedAt + 2, (ushort)needs.Length);
            Put32(image, verneedAt + 4, (uint)fileName);
            Put32(image, verneedAt + 8, 16);
            Put32(image, verneedAt + 12, 0);
            for (int i = 0; i < needs.Length; i++)
            {
                int aux = verneedAt + 16 + (16 * i);
                Put32(image, aux, 0x0b792650u + (uint)i);
                Put16(image, aux + 4, needs[i].Flags);
                Put16(image, aux + 6, (ushort)(2 + i));
                Put32(image, aux + 8, (uint)names[i]);
                Put32(image, aux + 12, i == needs.Length - 1 ? 0u : 16u);
            }

            // Section 1: .dynstr (SHT_STRTAB); section 2: .gnu.version_r linked to it.
            int s1 = sectionsAt + 64;
            Put32(image, s1 + 4, 3);
            Put64(image, s1 + 0x18, (ulong)dynstrAt);
            Put64(image, s1 + 0x20, (ulong)dynstr.Length);
            int s2 = sectionsAt + 128;
            Put32(image, s2 + 4, 0x6ffffffe);
            Put64(image, s2 + 0x18, (ulong)verneedAt);
            Put64(image, s2 + 0x20, (ulong)verneedSize);
            Put32(image, s2 + 0x28, 1);
            Put32(image, s2 + 0x2C, 1);
            return image;
        }

        private static int AddString(MemoryStream s, string text)
        {
            int at = (int)s.Length;
            byte[] bytes = Encoding.ASCII.GetBytes(text);
            s.Write(bytes);
            s.WriteByte(0);
            return at;
        }

        private static int Align(int value, int to) => (value + to - 1) / to * to;

        private static void Put16(byte[] b, int at, ushort v) => BitConverter.TryWriteBytes(b.AsSpan(at), v);

        private static void Put32(byte[] b, int at, uint v) => BitConverter.TryWriteBytes(b.AsSpan(at), v);

        private static void Put64(byte[] b, int at, ulong v) => BitConverter.TryWriteBytes(b.AsSpan(at), v);
    }
}
