namespace Migu.Continual.Training;

/// <summary>
/// One example as token ids, before padding. For an encoder–decoder, <see cref="Source"/> feeds the
/// encoder and <see cref="Target"/> is the decoder's labels; for a decoder-only model, the sequence
/// is Source followed by Target and only Target's positions carry loss.
/// </summary>
public sealed record EncodedExample(int[] Source, int[] Target)
{
    /// <summary>Tokens the model processes for this example (what throughput counts).</summary>
    public int Tokens => Source.Length + Target.Length;
}
