using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Migu.Core;
using Migu.Core.IO;

namespace Migu.Continual.Analysis;

/// <summary>analysis.json: a <see cref="MagnitudeAnalysis"/> as snake_case JSON (NaN written as "NaN").</summary>
public static class MagnitudeAnalysisFile
{
    public const string FileName = "analysis.json";

    public const int CurrentSchema = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // A similarity is NaN where a layer was silent on a task; JSON has no NaN literal.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Serialize(MagnitudeAnalysis analysis) => JsonSerializer.Serialize(analysis, Json);

    public static void Write(MagnitudeAnalysis analysis, string path) => AtomicFile.WriteAllText(path, Serialize(analysis));

    /// <summary>Parses analysis.json; <paramref name="source"/> names the file in errors.</summary>
    public static MagnitudeAnalysis Deserialize(string json, string source)
    {
        MagnitudeAnalysis analysis;
        try
        {
            analysis = JsonSerializer.Deserialize<MagnitudeAnalysis>(json, Json)
                ?? throw new MiguUserException($"{source}: empty analysis");
        }
        catch (JsonException e)
        {
            throw new MiguUserException($"{source}: not a valid analysis ({e.Message.Split('\n')[0]})", e);
        }

        if (analysis.Schema > CurrentSchema)
        {
            throw new MiguUserException(string.Create(CultureInfo.InvariantCulture, $"{source}: schema {analysis.Schema} is newer than this migu reads ({CurrentSchema})"));
        }

        return analysis;
    }

    public static MagnitudeAnalysis Read(string path) =>
        File.Exists(path) ? Deserialize(File.ReadAllText(path), path) : throw new MiguUserException($"{path}: no such file");
}
