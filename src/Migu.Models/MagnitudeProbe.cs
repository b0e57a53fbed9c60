using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Core;
using static TorchSharp.torch;

namespace Migu.Models;

/// <summary>
/// The window onto MIGU for a real checkpoint: one eval-mode fp32 forward of a given batch with
/// every linear layer recording, and the paper-rule mask each layer would get at threshold T.
/// </summary>
public static class MagnitudeProbe
{
    /// <summary>
    /// Reads <paramref name="inputJson"/>: <c>input_ids</c> (list of equal-length lists), optional
    /// <c>attention_mask</c>, and for T5 <c>labels</c> or <c>decoder_input_ids</c> (and optionally
    /// <c>decoder_attention_mask</c>, so padded decoder positions are left out of the magnitudes).
    /// </summary>
    public static ModelBatch ParseBatch(string inputJson, string source)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(inputJson);
        }
        catch (JsonException e)
        {
            throw new MiguUserException($"{source}: malformed JSON ({e.Message})", e);
        }

        if (root is not JsonObject obj)
        {
            throw new MiguUserException($"{source}: expected a JSON object with 'input_ids'");
        }

        Tensor ids = Matrix(obj, "input_ids", source) ?? throw new MiguUserException($"{source}: missing 'input_ids'");
        Tensor? mask = Matrix(obj, "attention_mask", source);
        if (mask is not null && !mask.shape.SequenceEqual(ids.shape))
        {
            throw new MiguUserException($"{source}: 'attention_mask' is [{string.Join(", ", mask.shape)}] but 'input_ids' is [{string.Join(", ", ids.shape)}]");
        }

        return new ModelBatch
        {
            InputIds = ids,
            AttentionMask = mask,
            Labels = Matrix(obj, "labels", source),
            DecoderInputIds = Matrix(obj, "decoder_input_ids", source),
            DecoderAttentionMask = Matrix(obj, "decoder_attention_mask", source),
        };
    }

    /// <summary>Runs the batch and returns the report as JSON: threshold, loss, and per layer magnitude and mask.</summary>
    public static JsonObject Run(LanguageModel model, ModelBatch batch, double threshold)
    {
        model.eval();
        Device device = model.parameters().First().device;
        using var migu = new MiguController(model, new MiguOptions { Threshold = threshold, Layers = "re:.*", SkipFirstTask = false });
        double? loss;
        using (var scope = NewDisposeScope())
        using (no_grad())
        using (migu.Recording())
        {
            var onDevice = new ModelBatch
            {
                InputIds = batch.InputIds.to(device),
                AttentionMask = batch.AttentionMask?.to(device),
                Labels = batch.Labels?.to(device),
                DecoderInputIds = batch.DecoderInputIds?.to(device),
                DecoderAttentionMask = batch.DecoderAttentionMask?.to(device),
            };
            ModelOutput output = model.call(onDevice);
            loss = output.Loss is null ? null : output.Loss.item<float>();
        }

        migu.BuildMasks();
        var layers = new JsonObject();
        foreach (MaskTarget target in migu.Targets)
        {
            using Tensor magnitude = migu.MagnitudesOf(target).cpu();
            using Tensor mask = migu.MaskOf(target).cpu();
            layers[target.Name[..^".weight".Length]] = new JsonObject
            {
                ["magnitude"] = new JsonArray(magnitude.data<float>().ToArray().Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
                ["mask"] = new JsonArray(mask.data<float>().ToArray().Select(v => (JsonNode)JsonValue.Create((int)v)).ToArray()),
            };
        }

        return new JsonObject { ["threshold"] = threshold, ["loss"] = loss, ["layers"] = layers };
    }

    private static Tensor? Matrix(JsonObject obj, string key, string source)
    {
        if (!obj.TryGetPropertyValue(key, out JsonNode? node) || node is null)
        {
            return null;
        }

        if (node is not JsonArray rows || rows.Count == 0 || rows.Any(r => r is not JsonArray))
        {
            throw new MiguUserException($"{source}: '{key}' must be a non-empty list of lists of integers");
        }

        int width = rows[0]!.AsArray().Count;
        var values = new List<long>();
        foreach (JsonArray row in rows.Cast<JsonArray>())
        {
            if (row.Count != width)
            {
                throw new MiguUserException($"{source}: '{key}' rows differ in length ({width} and {row.Count}); pad them and give an attention_mask");
            }

            foreach (JsonNode? v in row)
            {
                values.Add(v is JsonValue jv && jv.TryGetValue(out long x) ? x : throw new MiguUserException($"{source}: '{key}' holds a non-integer ({v?.ToJsonString() ?? "null"})"));
            }
        }

        return tensor(values.ToArray(), dtype: ScalarType.Int64).reshape(rows.Count, width);
    }
}
