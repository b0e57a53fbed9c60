using Migu.Continual.Analysis;

namespace Migu.Continual.Tests.Analysis;

public class MagnitudeMathTests
{
    [Fact]
    public void L1_normalising_divides_by_the_sum_of_absolute_values()
    {
        Assert.Equal([0.125, -0.375, 0.5], MagnitudeMath.L1Normalise([1, -3, 4]));
        Assert.Equal([0.0, 0.0], MagnitudeMath.L1Normalise([0, 0]));
    }

    [Fact]
    public void Cosine_is_the_angle_between_hand_made_vectors()
    {
        Assert.Equal(1 / Math.Sqrt(2), MagnitudeMath.Cosine([1, 0], [1, 1]), 12);
        Assert.Equal(1, MagnitudeMath.Cosine([1, 2, 3], [2, 4, 6]), 12); // scale does not matter
        Assert.Equal(0, MagnitudeMath.Cosine([1, 0, 2], [0, 5, 0]), 12);
        // 3·1 + 4·2 = 11 over 5·√5.
        Assert.Equal(11 / (5 * Math.Sqrt(5)), MagnitudeMath.Cosine([3, 4], [1, 2]), 12);
        Assert.True(double.IsNaN(MagnitudeMath.Cosine([0, 0], [1, 2])));
        Assert.Throws<ArgumentException>(() => MagnitudeMath.Cosine([1], [1, 2]));
    }

    [Fact]
    public void The_similarity_matrix_is_symmetric_with_ones_on_the_diagonal()
    {
        double[][] m = MagnitudeMath.SimilarityMatrix([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]);
        Assert.Equal([1.0, 1 / Math.Sqrt(2), 0.0], m[0], new Tolerance(1e-12));
        Assert.Equal(1 / Math.Sqrt(2), m[2][1], 12);
        Assert.Equal(m[1][2], m[2][1]);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(1, m[i][i], 12));
    }

    [Fact]
    public void Means_over_layers_leave_out_NaN_cells_and_the_diagonal()
    {
        double[][] a = [[1, 0.2], [0.2, 1]];
        double[][] b = [[1, double.NaN], [double.NaN, 1]];
        double[][] c = [[1, 0.6], [0.6, 1]];
        double[][] mean = MagnitudeMath.Mean([a, b, c]);
        Assert.Equal(0.4, mean[0][1], 12);
        Assert.Equal(1, mean[1][1], 12);

        double[][] three = [[1, 0.5, 0.7], [0.5, 1, 0.9], [0.7, 0.9, 1]];
        Assert.Equal((0.5 + 0.7 + 0.9) / 3, MagnitudeMath.MeanOffDiagonal(three), 12);
        Assert.True(double.IsNaN(MagnitudeMath.MeanOffDiagonal(b)));
    }

    private sealed class Tolerance(double epsilon) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= epsilon;

        public int GetHashCode(double obj) => 0;
    }
}
