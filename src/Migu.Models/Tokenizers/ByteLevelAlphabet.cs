namespace Migu.Models.Tokenizers;

/// <summary>
/// GPT-2's reversible byte ↔ character table: printable Latin-1 bytes stand for themselves, the
/// others (controls, space, 0x7F–0xA0, 0xAD) take the characters from U+0100 on, in byte order.
/// Byte-level BPE vocabularies are written in these characters.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildTable();
    private static readonly Dictionary<char, byte> CharToByte = BuildInverse();

    /// <summary>The byte-level spelling of <paramref name="text"/>'s UTF-8 bytes.</summary>
    public static string Encode(string text)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text);
        return string.Create(bytes.Length, bytes, static (span, b) =>
        {
            for (int i = 0; i < b.Length; i++)
            {
                span[i] = ByteToChar[b[i]];
            }
        });
    }

    /// <summary>The character that stands for byte <paramref name="b"/>.</summary>
    public static char CharOf(byte b) => ByteToChar[b];

    /// <summary>The bytes a token stands for; null when one of its characters is not in the table.</summary>
    public static bool TryDecode(string token, List<byte> into)
    {
        int start = into.Count;
        foreach (char c in token)
        {
            if (!CharToByte.TryGetValue(c, out byte b))
            {
                into.RemoveRange(start, into.Count - start);
                return false;
            }

            into.Add(b);
        }

        return true;
    }

    private static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] BuildTable()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            table[b] = Printable(b) ? (char)b : (char)next++;
        }

        return table;
    }

    private static Dictionary<char, byte> BuildInverse()
    {
        var inverse = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++)
        {
            inverse[ByteToChar[b]] = (byte)b;
        }

        return inverse;
    }
}
