using Migu.Cli.Run;

namespace Migu.Cli.Tests;

/// <summary>The run and demo summaries print percentages as `migu report` does, so the two agree.</summary>
public sealed class ResultTablesTests
{
    [Theory]
    [InlineData(0.0925, "9.3")] // ACC of a last row (0, 0, 0, 0.37): a half, rounded away from zero
    [InlineData(0.0625, "6.3")]
    [InlineData(0.7568, "75.7")]
    [InlineData(-0.00001, "0.0")] // never "-0.0"
    public void Percent_rounds_halves_away_from_zero(double fraction, string expected) =>
        Assert.Equal(expected, ResultTables.Percent(fraction));

    [Theory]
    [InlineData(-0.22, "-22.0")]
    [InlineData(0.0775, "+7.8")]
    [InlineData(-0.0925, "-9.3")]
    [InlineData(0.0, "0.0")]
    public void Signed_shows_the_sign_and_agrees_with_the_report(double fraction, string expected)
    {
        Assert.Equal(expected, ResultTables.Signed(fraction));
        Assert.Equal(expected.TrimStart('+'), Migu.Reports.Writing.Numbers.Percent(fraction));
    }

    [Fact]
    public void A_missing_value_is_a_dash() => Assert.Equal("–", ResultTables.Percent(null));
}
