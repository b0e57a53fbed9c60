using Migu.Continual.Evaluation;

namespace Migu.Continual.Tests.Evaluation;

public sealed class AnswerNormalizerTests
{
    [Theory]
    [InlineData("Science or Technology", "science or technology")]
    [InlineData("  Very   Positive.\n", "very positive")]
    [InlineData("Sci/Tech", "scitech")]
    [InlineData("Business & Finance", "business finance")]
    [InlineData("\"neutral\"!", "neutral")]
    [InlineData("the answer is: A", "the answer is a")]
    [InlineData("Café — ÉTÉ", "café — été")]
    [InlineData("?!.", "")]
    [InlineData("", "")]
    public void Normalisation_lowercases_drops_ascii_punctuation_and_collapses_spaces(string text, string expected)
    {
        Assert.Equal(expected, AnswerNormalizer.Normalize(text));
    }

    [Fact]
    public void Answers_that_differ_only_in_case_punctuation_or_spacing_are_the_same()
    {
        Assert.True(AnswerNormalizer.Same("Very positive", " very positive."));
        Assert.False(AnswerNormalizer.Same("positive", "very positive"));
    }
}
