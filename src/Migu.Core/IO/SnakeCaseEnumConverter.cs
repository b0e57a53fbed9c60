using System.Text.Json;
using System.Text.Json.Serialization;

namespace Migu.Core.IO;

/// <summary>
/// Enums as snake_case strings in JSON ("gradient", "top_k"), so recipes read like the CLI flags.
/// Reading is case-insensitive, so "Gradient" is accepted too.
/// </summary>
public sealed class SnakeCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    where TEnum : struct, Enum;
