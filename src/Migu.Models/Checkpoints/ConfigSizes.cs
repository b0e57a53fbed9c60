using System.Globalization;

namespace Migu.Models.Checkpoints;

/// <summary>
/// The sizes a config.json declares (and its rates: dropouts, epsilons), checked before a model is
/// built from them: each size positive and
/// under a sane bound (so no absurd value reaches an allocation or an integer cast), and, for a
/// checkpoint, each equal to the dimension of the tensor that holds it and each layer count equal
/// to the layers the checkpoint has (read from the safetensors headers, before anything is
/// allocated). Every refusal is one <see cref="CheckpointException"/> line naming the config and
/// the key. A family declares its sizes once and checks <see cref="CheckBounds"/> when it
/// validates a config and <see cref="CheckAgainst"/> when it loads a checkpoint (through
/// <see cref="ModelCheckpoint.Load{T}"/>).
/// </summary>
public sealed class ConfigSizes
{
    /// <summary>Rows of an embedding table; the largest released vocabularies have about 2^18.</summary>
    public const long MaxVocabulary = 1L << 24;

    /// <summary>Model, head and attention widths; released models stay under 2^15.</summary>
    public const long MaxWidth = 1L << 17;

    /// <summary>Feed-forward widths; released models stay under 2^17.</summary>
    public const long MaxFeedForward = 1L << 20;

    /// <summary>Blocks of a stack; released models stay under 2^8.</summary>
    public const long MaxLayers = 1L << 10;

    /// <summary>Attention heads (or key/value heads, or T5's relative-position buckets).</summary>
    public const long MaxHeads = 1L << 16;

    /// <summary>Context lengths, kept where an int holds them (only RoBERTa allocates a table, checked against its tensor).</summary>
    public const long MaxPositions = 1L << 30;

    /// <summary>Classes of a classifier.</summary>
    public const long MaxLabels = 1L << 20;

    private readonly List<Entry> entries = [];
    private readonly List<Rate> rates = [];

    public ConfigSizes(string source)
    {
        Source = source;
    }

    /// <summary>The config file, for messages.</summary>
    public string Source { get; }

    /// <summary>
    /// <paramref name="key"/> = <paramref name="value"/> must lie in [1, <paramref name="max"/>]; the first of
    /// <paramref name="seenAt"/> (tensor, dimension) that the checkpoint has must have exactly that size there.
    /// </summary>
    public ConfigSizes Size(string key, long value, long max, params (string Tensor, int Dim)[] seenAt)
    {
        entries.Add(new Entry(key, value, max, seenAt, LayerPrefix: null));
        return this;
    }

    /// <summary>
    /// A layer count: in [1, <see cref="MaxLayers"/>], and equal to the number of blocks
    /// <c>{prefix}0.</c>, <c>{prefix}1.</c>, … the checkpoint has.
    /// </summary>
    public ConfigSizes Layers(string key, long value, string prefix)
    {
        entries.Add(new Entry(key, value, MaxLayers, [], prefix));
        return this;
    }

    /// <summary>A probability such as a dropout rate: in [0, 1].</summary>
    public ConfigSizes Probability(string key, double value)
    {
        rates.Add(new Rate(key, value, 0, MinIncluded: true, 1, "a probability in [0, 1]"));
        return this;
    }

    /// <summary>
    /// A positive number such as an epsilon or a base (zero allowed for a scale such as
    /// initializer_range), small enough for fp32, in which the models compute with it.
    /// </summary>
    public ConfigSizes Positive(string key, double value, bool zeroAllowed = false)
    {
        rates.Add(new Rate(key, value, 0, zeroAllowed, float.MaxValue, zeroAllowed ? "a finite number ≥ 0" : "a finite number > 0"));
        return this;
    }

    /// <summary>The product of two sizes, or −1 when either is not positive or it overflows (the factors' own checks name them first).</summary>
    public static long Product(long a, long b) => a > 0 && b > 0 && a <= long.MaxValue / b ? a * b : -1;

    /// <summary>Refuses the first size that is not positive or exceeds its bound, then the first rate out of its range.</summary>
    public void CheckBounds()
    {
        CheckSizes();
        foreach (Rate r in rates)
        {
            if (!double.IsFinite(r.Value) || r.Value < r.Min || (r.Value == r.Min && !r.MinIncluded) || r.Value > r.Max)
            {
                string what = r.Max == float.MaxValue ? $"{r.What} within fp32's range" : r.What;
                throw new CheckpointException(string.Create(CultureInfo.InvariantCulture, $"{Source}: '{r.Key}' must be {what}, got {r.Value}"));
            }
        }
    }

    private void CheckSizes()
    {
        foreach (Entry e in entries)
        {
            if (e.Value <= 0)
            {
                throw new CheckpointException($"{Source}: '{e.Key}' must be positive, got {e.Value}");
            }

            if (e.Value > e.Max)
            {
                throw new CheckpointException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Source}: '{e.Key}' is {e.Value}, more than {e.Max}, the most this loader accepts"));
            }
        }
    }

    /// <summary>Checks the bounds, then every size the checkpoint's tensor shapes show (nothing when the shapes are unknown).</summary>
    public void CheckAgainst(CheckpointShapes checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        CheckBounds();
        if (checkpoint.Shapes is not { } shapes)
        {
            return;
        }

        foreach (Entry e in entries)
        {
            if (e.LayerPrefix is string prefix)
            {
                CheckLayers(e, prefix, shapes.Keys, checkpoint.Source);
                continue;
            }

            foreach (var (tensor, dim) in e.SeenAt)
            {
                if (!shapes.TryGetValue(tensor, out IReadOnlyList<long>? shape))
                {
                    continue;
                }

                if (dim >= shape.Count || shape[dim] != e.Value)
                {
                    string actual = dim < shape.Count ? $"{shape[dim]}" : "no such dimension";
                    throw new CheckpointException(
                        $"{Source}: '{e.Key}' is {e.Value} but {checkpoint.Source} has '{tensor}' of shape [{string.Join(", ", shape)}] ({actual} in dimension {dim})");
                }

                break;
            }
        }
    }

    private void CheckLayers(Entry e, string prefix, IEnumerable<string> keys, string checkpoint)
    {
        var indices = new HashSet<long>();
        foreach (string key in keys)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            int dot = key.IndexOf('.', prefix.Length);
            if (dot > prefix.Length
                && long.TryParse(key.AsSpan(prefix.Length, dot - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long index))
            {
                indices.Add(index);
            }
        }

        if (indices.Count != e.Value || (indices.Count > 0 && indices.Max() != indices.Count - 1))
        {
            string held = indices.Count == 0 ? "none" : $"{indices.Count}, numbered {indices.Min()} to {indices.Max()}";
            string missing = indices.Count < e.Value ? $"; no '{prefix}{Enumerable.Range(0, (int)Math.Min(e.Value, int.MaxValue)).First(i => !indices.Contains(i))}.…'" : string.Empty;
            throw new CheckpointException($"{Source}: '{e.Key}' is {e.Value} but {checkpoint} has {held} under '{prefix}'{missing}");
        }
    }

    private sealed record Entry(string Key, long Value, long Max, (string Tensor, int Dim)[] SeenAt, string? LayerPrefix);

    private sealed record Rate(string Key, double Value, double Min, bool MinIncluded, double Max, string What);
}
