using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>Right-padded (B, T) int64 tensors from rows of unequal length, and the matching 0/1 mask.</summary>
internal static class PaddedRows
{
    public static Tensor Ids(IReadOnlyList<long[]> rows, long padValue, Device device)
    {
        int width = Width(rows);
        var data = new long[rows.Count * width];
        Array.Fill(data, padValue);
        for (int r = 0; r < rows.Count; r++)
        {
            rows[r].CopyTo(data, r * width);
        }

        return tensor(data, [rows.Count, width], device: device);
    }

    public static Tensor Mask(IReadOnlyList<long[]> rows, Device device)
    {
        int width = Width(rows);
        var data = new long[rows.Count * width];
        for (int r = 0; r < rows.Count; r++)
        {
            Array.Fill(data, 1L, r * width, rows[r].Length);
        }

        return tensor(data, [rows.Count, width], device: device);
    }

    private static int Width(IReadOnlyList<long[]> rows) => Math.Max(1, rows.Max(r => r.Length));
}
