using System.Globalization;
using System.Text;
using Migu.Models.Tokenizers;

namespace Migu.Models.Tests.Tokenizers;

/// <summary>The embedded decomposition table against .NET's own NFD (this test process has ICU; the CLI, in invariant mode, does not).</summary>
public class BertTextRulesTests
{
    [Fact]
    public void Accent_stripping_from_the_table_equals_dotnet_nfd_without_nonspacing_marks_for_every_code_point()
    {
        var options = new BertNormalizerOptions { CleanText = false, HandleChineseChars = false, StripAccents = true, Lowercase = false };
        var differing = new List<string>();
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF || Rune.GetUnicodeCategory(new Rune(cp)) == UnicodeCategory.OtherNotAssigned)
            {
                continue;
            }

            string text = new Rune(cp).ToString();
            var expected = new StringBuilder();
            foreach (Rune r in text.Normalize(NormalizationForm.FormD).EnumerateRunes())
            {
                if (Rune.GetUnicodeCategory(r) != UnicodeCategory.NonSpacingMark)
                {
                    expected.Append(r.ToString());
                }
            }

            if (BertTextRules.Normalize(text, options) != expected.ToString())
            {
                differing.Add(cp.ToString("X4", CultureInfo.InvariantCulture));
            }
        }

        Assert.Empty(differing);
    }

    [Fact]
    public void Normalization_cleans_spaces_cjk_strips_and_lowers_in_order()
    {
        var options = new BertNormalizerOptions();
        // Tab and no-break space become spaces, the zero-width space and BEL go, each ideograph is spaced.
        Assert.Equal("i stanbul  北  京  cafe x", BertTextRules.Normalize("İ\tstanbul\u200b 北京 Café\u0007\u00a0X", options));
        Assert.Equal(["a", "$", "b", "'", "s", ",", "c"], BertTextRules.PreTokenize("a$b's,  c"));
    }
}
