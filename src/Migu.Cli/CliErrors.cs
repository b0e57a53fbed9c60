using System.CommandLine;
using Migu.Core;
using Spectre.Console;

namespace Migu.Cli;

/// <summary>Turns errors a user can cause into one line and exit code 2; bugs keep their stack trace.</summary>
internal static class CliErrors
{
    public const int UserError = 2;

    public static readonly Option<bool> VerboseOption = new("--verbose", "-v")
    {
        Description = "Show stack traces and extra detail",
        Recursive = true,
    };

    /// <summary>Runs <paramref name="body"/>; a <see cref="MiguUserException"/> becomes "error: …" and exit 2.</summary>
    public static int Run(ParseResult parse, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (MiguUserException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (parse.GetValue(VerboseOption))
            {
                AnsiConsole.WriteException(e);
            }

            return UserError;
        }
    }
}
