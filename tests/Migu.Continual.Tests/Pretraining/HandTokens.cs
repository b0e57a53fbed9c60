using Migu.Continual.Pretraining;

namespace Migu.Continual.Tests.Pretraining;

/// <summary>A made-up vocabulary for objective tests: pad 0, EOS 1, BOS 2, mask = the last id, sentinels counted down below it.</summary>
internal static class HandTokens
{
    public static ObjectiveTokens Of(int vocabSize = 1000, int sentinels = 10)
    {
        int mask = vocabSize - 1;
        int[] sentinelIds = [.. Enumerable.Range(0, sentinels).Select(i => mask - 1 - i)];
        return new ObjectiveTokens
        {
            VocabSize = vocabSize,
            Pad = 0,
            Eos = 1,
            Mask = mask,
            Sentinels = sentinelIds,
            Special = new HashSet<int>([0, 1, 2, mask, .. sentinelIds]),
        };
    }
}
