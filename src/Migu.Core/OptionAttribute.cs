namespace Migu.Core;

/// <summary>Which commands offer a setting's flag.</summary>
[Flags]
public enum OptionScopes
{
    None = 0,

    /// <summary>A continual run (<c>migu run</c>, <c>demo</c>, <c>sweep</c> and its grid keys).</summary>
    Run = 1,

    /// <summary>Scoring a checkpoint (<c>migu eval</c>).</summary>
    Eval = 2,

    /// <summary>Pre-training one corpus (<c>migu pretrain</c>).</summary>
    Pretrain = 4,
}

/// <summary>
/// Declares a recipe setting once, on its property: what it means (flag help, README tables) and,
/// when it has one, its command-line flag. Migu.Continual's <c>RecipeOptions</c> reads these
/// declarations; the CLI's flags, <c>--dump-recipe</c>, sweep grid keys and the README's option
/// tables all come from it. The recipe key is the property's JSON name; the default is the record's.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string help) : Attribute
{
    /// <summary>What the setting means, in one line.</summary>
    public string Help { get; } = help;

    /// <summary>The flag (<c>--lr</c>); null for a setting only a recipe file can change.</summary>
    public string? Flag { get; init; }

    /// <summary>
    /// Other names of the flag, taking the same value for the same setting: Hugging Face Trainer's
    /// names where the meaning is the same (<c>--learning-rate</c> for <c>--lr</c>). Listed in the
    /// flag's help and the README; a command line that gives two of them different values is refused.
    /// </summary>
    public string[] Aliases { get; init; } = [];

    /// <summary>
    /// Hugging Face Trainer's names of a like setting whose meaning differs (<c>--per-device-train-batch-size</c>
    /// for <c>--batch</c>, which is global): no alias, but a command line that gives one is pointed to this
    /// flag and its help, which says how they differ.
    /// </summary>
    public string[] Unlike { get; init; } = [];

    /// <summary>Which commands offer the flag.</summary>
    public OptionScopes Scopes { get; init; } = OptionScopes.Run;

    /// <summary>For a boolean: the flag states the opposite (<c>--migu-first-task</c> sets <c>skip_first_task</c> false).</summary>
    public bool Negated { get; init; }

    /// <summary>A sibling key (JSON name) the flag clears, for settings that exclude each other (<c>--tasks</c> and <c>--order</c>).</summary>
    public string? Clears { get; init; }

    /// <summary>
    /// Set on the flag that turns an optional section on (<c>--migu T</c>: MIGU with threshold T; <c>off</c>
    /// removes it): what the section is called in messages. The section's other flags need it on.
    /// </summary>
    public string? Switches { get; init; }

    /// <summary>How the flag's value is named in usage text (<c>T</c>).</summary>
    public string? ValueName { get; init; }
}

/// <summary>
/// A flag that stands for one value of a setting, as Hugging Face's boolean switches do for what is one
/// named setting here: <c>--bf16</c> is <c>--dtype bf16</c> and <c>--bf16 false</c> is <c>--dtype fp32</c>.
/// It sits beside the setting's <see cref="OptionAttribute"/>, which must have a flag, and offers it
/// in the same commands; giving it with the flag and another value is refused.
/// </summary>
/// <param name="flag">The switch (<c>--bf16</c>).</param>
/// <param name="on">The value it stands for, as the setting's flag takes it (<c>bf16</c>).</param>
/// <param name="off">The value <c>FLAG false</c> stands for (<c>fp32</c>).</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = true)]
public sealed class ShorthandAttribute(string flag, string on, string off) : Attribute
{
    public string Flag { get; } = flag;

    public string On { get; } = on;

    public string Off { get; } = off;
}
