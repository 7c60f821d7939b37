namespace Cairn.Cli.Bench;

/// <summary>Median, minimum, maximum and sample count of repeated measurements (all 0 when there are none).</summary>
internal readonly record struct Stats(double Median, double Min, double Max, int Count)
{
    public static Stats Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return default;
        double[] sorted = values.Order().ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new Stats(median, sorted[0], sorted[^1], n);
    }
}
