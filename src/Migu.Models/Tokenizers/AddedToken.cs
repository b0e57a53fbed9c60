namespace Migu.Models.Tokenizers;

/// <summary>
/// A token matched in the raw text before the model sees it (tokenizers' added_tokens): special
/// tokens such as &lt;s&gt; and user-added ones. LStrip/RStrip let the match swallow whitespace on
/// that side (RoBERTa's &lt;mask&gt;); SingleWord matches only between non-word characters.
/// </summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false, bool SingleWord = false);

/// <summary>Splits text into plain segments and added tokens, leftmost match first, longest on ties.</summary>
internal sealed class AddedTokenSplitter
{
    private readonly AddedToken[] _tokens;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        // Longest first so that at one position the longest content wins.
        _tokens = [.. tokens.Where(t => t.Content.Length > 0).OrderByDescending(t => t.Content.Length)];
    }

    /// <summary>A piece of the input: a plain text segment (Token null) or an added token; Start is its offset in the input.</summary>
    public readonly record struct Piece(string Text, AddedToken? Token, int Start);

    public List<Piece> Split(string text)
    {
        var pieces = new List<Piece>();
        int segmentStart = 0;
        int i = 0;
        while (i < text.Length)
        {
            AddedToken? hit = MatchAt(text, i);
            if (hit is null)
            {
                i++;
                continue;
            }

            int from = i;
            int to = i + hit.Content.Length;
            if (hit.LStrip)
            {
                while (from > segmentStart && char.IsWhiteSpace(text[from - 1]))
                {
                    from--;
                }
            }

            if (hit.RStrip)
            {
                while (to < text.Length && char.IsWhiteSpace(text[to]))
                {
                    to++;
                }
            }

            if (from > segmentStart)
            {
                pieces.Add(new Piece(text[segmentStart..from], null, segmentStart));
            }

            pieces.Add(new Piece(hit.Content, hit, from));
            segmentStart = i = to;
        }

        if (segmentStart < text.Length)
        {
            pieces.Add(new Piece(text[segmentStart..], null, segmentStart));
        }

        return pieces;
    }

    private AddedToken? MatchAt(string text, int i)
    {
        foreach (AddedToken token in _tokens)
        {
            if (string.CompareOrdinal(text, i, token.Content, 0, token.Content.Length) != 0)
            {
                continue;
            }

            if (token.SingleWord && (IsWordChar(text, i - 1) || IsWordChar(text, i + token.Content.Length)))
            {
                continue;
            }

            return token;
        }

        return null;
    }

    private static bool IsWordChar(string text, int i) => i >= 0 && i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_');
}
