namespace Migu.Core.Tests;

/// <summary>A user error is printed as one line, whatever a hostile file put into its message.</summary>
public class MiguUserExceptionTests
{
    [Fact]
    public void Line_breaks_and_control_characters_are_escaped()
    {
        var e = new MiguUserException("config.json: malformed JSON ('f\u00e0lse,\n  \"x\": 1\r\t\u001b[31m\u2028')");

        Assert.Equal("config.json: malformed JSON ('f\u00e0lse,\\n  \"x\": 1\\r\\t\\u001B[31m\\u2028')", e.Message);
    }

    [Fact]
    public void A_plain_message_is_kept_as_it_is()
    {
        const string Message = "tokenizer.json: model.merges[0] must be a pair of tokens — «Ġ t»";

        Assert.Same(Message, new MiguUserException(Message, new InvalidOperationException()).Message);
    }
}
