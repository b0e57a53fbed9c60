namespace Migu.Continual.Analysis;

/// <summary>
/// The arithmetic of the magnitude analysis: L1-normalised distributions, cosine similarity of two
/// tasks' vectors, and the task × task similarity matrix averaged over layers.
/// </summary>
public static class MagnitudeMath
{
    /// <summary>
    /// <paramref name="values"/> divided by their L1 norm, so they sum to one and tasks with more or
    /// longer samples compare on equal terms. A vector of zeros stays zeros.
    /// </summary>
    public static double[] L1Normalise(IReadOnlyList<double> values)
    {
        double norm = values.Sum(Math.Abs);
        return norm == 0 ? new double[values.Count] : [.. values.Select(v => v / norm)];
    }

    /// <summary>a·b / (‖a‖‖b‖); NaN when either vector is all zeros (the angle is undefined).</summary>
    public static double Cosine(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count)
        {
            throw new ArgumentException($"vectors of {a.Count} and {b.Count} units cannot be compared", nameof(b));
        }

        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Count; i++)
        {
            dot += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }

        return aa == 0 || bb == 0 ? double.NaN : dot / Math.Sqrt(aa * bb);
    }

    /// <summary>The symmetric matrix of cosines between every pair of <paramref name="vectors"/> (one per task).</summary>
    public static double[][] SimilarityMatrix(IReadOnlyList<IReadOnlyList<double>> vectors)
    {
        int n = vectors.Count;
        var m = new double[n][];
        for (int i = 0; i < n; i++)
        {
            m[i] = new double[n];
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                m[i][j] = m[j][i] = Cosine(vectors[i], vectors[j]);
            }
        }

        return m;
    }

    /// <summary>
    /// The cell-wise mean of equally shaped matrices (one per layer). A NaN cell (a layer that was
    /// silent on one of the two tasks) is left out of that cell's mean, not counted as zero.
    /// </summary>
    public static double[][] Mean(IReadOnlyList<double[][]> matrices)
    {
        if (matrices.Count == 0)
        {
            throw new ArgumentException("no matrices to average", nameof(matrices));
        }

        int n = matrices[0].Length;
        var mean = new double[n][];
        for (int i = 0; i < n; i++)
        {
            mean[i] = new double[n];
            for (int j = 0; j < n; j++)
            {
                var present = matrices.Select(m => m[i][j]).Where(v => !double.IsNaN(v)).ToList();
                mean[i][j] = present.Count == 0 ? double.NaN : present.Average();
            }
        }

        return mean;
    }

    /// <summary>The mean of the cells off the diagonal (NaN cells left out): how alike different tasks look.</summary>
    public static double MeanOffDiagonal(double[][] matrix)
    {
        var cells = new List<double>();
        for (int i = 0; i < matrix.Length; i++)
        {
            for (int j = 0; j < matrix.Length; j++)
            {
                if (i != j && !double.IsNaN(matrix[i][j]))
                {
                    cells.Add(matrix[i][j]);
                }
            }
        }

        return cells.Count == 0 ? double.NaN : cells.Average();
    }
}
