using System.CommandLine;
using Migu.Cli.Run;
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

    /// <summary>The most telling of the parser's errors, in plain words, with where to look for help.</summary>
    public static string Describe(ParseResult parse)
    {
        string message = (parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0]).Message;
        message = System.Text.RegularExpressions.Regex.Replace(
            message,
            @"as expected type '(System\.Nullable`1\[)?System\.(?<t>\w+)\]?'",
            m => "as " + (m.Groups["t"].Value switch
            {
                "Int32" or "Int64" => "a whole number",
                "Double" or "Single" => "a number",
                "Boolean" => "true or false",
                string other => other,
            }));
        message = RecipeFlags.HintFor(parse) ?? message;
        string command = parse.CommandResult.Command is RootCommand ? "migu" : $"migu {parse.CommandResult.Command.Name}";
        return $"{message} (see {command} --help)";
    }

    /// <summary>Runs <paramref name="body"/>; a <see cref="MiguUserException"/> becomes "error: …" and exit 2, a run stopped by Ctrl-C its resume hint and exit 130.</summary>
    public static int Run(ParseResult parse, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (InterruptedRunException e)
        {
            Console.Error.WriteLine(e.Message);
            return ObservedRun.Interrupted;
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
