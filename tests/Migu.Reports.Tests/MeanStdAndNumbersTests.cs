using Migu.Reports.Analysis;
using Migu.Reports.Writing;

namespace Migu.Reports.Tests;

public class MeanStdAndNumbersTests
{
    [Fact]
    public void Std_is_the_sample_std_with_n_minus_1()
    {
        // 0.70, 0.74, 0.78: mean 0.74; squared deviations 0.0016 + 0 + 0.0016 over n − 1 = 2 → std 0.04
        // (the population std, over n = 3, would be 0.0327).
        var m = MeanStd.Of([0.70, 0.74, 0.78]);
        Assert.Equal(3, m.Count);
        Assert.Equal(0.74, m.Mean, 12);
        Assert.Equal(0.04, m.Std!.Value, 12);
    }

    [Fact]
    public void One_value_has_no_std_and_none_has_no_mean()
    {
        Assert.Null(MeanStd.Of([0.5]).Std);
        Assert.Equal(0, MeanStd.Of(Array.Empty<double>()).Count);
        Assert.Equal(2, MeanStd.Of([0.5, null, 0.7]).Count);
    }

    [Theory]
    [InlineData(0.7568, "75.7")]
    [InlineData(0.75, "75.0")]
    [InlineData(0.00049, "0.0")]
    [InlineData(-0.00049, "0.0")]
    [InlineData(-0.2125, "-21.3")]
    [InlineData(1.0, "100.0")]
    public void Percent_has_one_decimal_and_never_minus_zero(double fraction, string expected)
    {
        Assert.Equal(expected, Numbers.Percent(fraction));
    }

    [Fact]
    public void Mean_and_std_print_as_percent()
    {
        Assert.Equal("74.0 ± 4.0", Numbers.Percent(MeanStd.Of([0.70, 0.74, 0.78])));
        Assert.Equal("50.0", Numbers.Percent(MeanStd.Of([0.5])));
        Assert.Equal("–", Numbers.Percent(MeanStd.Of(Array.Empty<double>())));
    }
}
