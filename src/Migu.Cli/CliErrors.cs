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

/// <summary>
/// What an --out names, checked before any work starts: a directory where a file is wanted, or a file
/// where a directory is wanted (itself or a folder above it), is one line and exit code 2 instead of
/// an IOException's stack trace after minutes of work.
/// </summary>
internal static class OutPath
{
    /// <summary><paramref name="path"/> as a directory to write into (made later if absent).</summary>
    public static string Directory(string path, string flag = "--out")
    {
        string full = Path.GetFullPath(path);
        if (System.IO.File.Exists(full))
        {
            throw new MiguUserException($"{flag} {path} is a file; give a directory");
        }

        RefuseFileAbove(full, path, flag);
        return path;
    }

    /// <summary><paramref name="path"/> as a file to write (replaced if present).</summary>
    public static string File(string path, string flag = "--out")
    {
        string full = Path.GetFullPath(path);
        if (System.IO.Directory.Exists(full))
        {
            throw new MiguUserException($"{flag} {path} is a directory; give a file name");
        }

        RefuseFileAbove(full, path, flag);
        return path;
    }

    private static void RefuseFileAbove(string full, string path, string flag)
    {
        for (string? above = Path.GetDirectoryName(full); above is not null; above = Path.GetDirectoryName(above))
        {
            if (System.IO.File.Exists(above))
            {
                throw new MiguUserException($"{flag} {path}: {above} is a file, not a directory");
            }

            if (System.IO.Directory.Exists(above))
            {
                return;
            }
        }
    }
}
