namespace Migu.Continual.Bench;

/// <summary>Peak resident memory of this process (Linux /proc), resettable between benchmark cases.</summary>
internal static class ProcessMemory
{
    /// <summary>Resets the kernel's peak-RSS mark (clear_refs 5) and returns the current resident size.</summary>
    public static long ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or not allowed: the peak then covers the process's whole life.
        }

        return Read("VmRSS:");
    }

    /// <summary>Peak resident bytes since the last reset.</summary>
    public static long Peak() => Read("VmHWM:");

    private static long Read(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return 0;
        }

        string? line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
