namespace Migu.Core;

/// <summary>
/// An error the user can cause and fix (a bad option, a file that does not fit, a shape mismatch).
/// The CLI prints its message as one line and exits with code 2; anything else is a bug.
/// </summary>
public class MiguUserException : Exception
{
    public MiguUserException()
    {
    }

    public MiguUserException(string message)
        : base(message)
    {
    }

    public MiguUserException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
