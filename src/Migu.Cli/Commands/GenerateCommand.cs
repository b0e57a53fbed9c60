using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Core;
using Migu.Core.Runtime;
using Migu.Models;
using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Cli.Commands;

/// <summary><c>migu generate</c>: greedy continuations of prompts with a checkpoint's own tokenizer.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint directory with tokenizer files, or a cached hub id ORG/NAME[@REV]", Required = true };
        var prompts = new Option<string[]>("--prompt") { Description = "A prompt; repeat for a batch", Required = true, AllowMultipleArgumentsPerToken = false };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate per prompt", DefaultValueFactory = _ => 32 };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var json = new Option<bool>("--json") { Description = "One JSON object per prompt: prompt, input_ids, generated_ids, text" };
        var command = new Command("generate", "Greedy generation with a checkpoint (T5 or Llama)") { model, prompts, maxNew, device, json };
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            int maxNewTokens = parse.GetValue(maxNew);
            if (maxNewTokens < 1)
            {
                throw new MiguUserException($"--max-new-tokens must be at least 1, got {maxNewTokens}");
            }

            string dir = HubCache.Resolve(parse.GetValue(model)!); // the tokenizer's directory too
            string[] texts = parse.GetValue(prompts)!;
            ITextTokenizer tokenizer = TokenizerLoader.Load(dir);
            using LanguageModel m = ModelLoader.Load(dir, TorchRuntime.ParseDevice(parse.GetValue(device)!));
            Device dev = m.parameters().First().device;
            var encoded = texts.Select(t => tokenizer.Encode(t)).ToList();
            bool decoderOnly = m.Family.IsDecoderOnly; // left padding, and the output repeats the prompt
            using var scope = NewDisposeScope();
            using var batch = TokenBatch.Create(encoded, tokenizer.PadTokenId ?? tokenizer.EosTokenId ?? 0, decoderOnly ? PaddingSide.Left : PaddingSide.Right, device: dev);
            Tensor ids = batch.InputIds;
            Tensor generated = m.Generate(ids, batch.AttentionMask, maxNewTokens).cpu();
            for (int i = 0; i < texts.Length; i++)
            {
                long[] row = generated[i].data<long>().ToArray();
                int[] output = row.Select(v => (int)v).ToArray();
                // For a decoder-only model the output repeats the (left-padded) prompt; the text is what follows it.
                int[] fresh = decoderOnly ? output[(int)ids.shape[1]..] : output;
                string text = tokenizer.Decode(fresh, skipSpecialTokens: true);
                if (parse.GetValue(json))
                {
                    var obj = new JsonObject
                    {
                        ["prompt"] = texts[i],
                        ["input_ids"] = new JsonArray(encoded[i].Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
                        ["generated_ids"] = new JsonArray(output.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
                        ["text"] = text,
                    };
                    Console.WriteLine(obj.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
                }
                else
                {
                    Console.WriteLine($"{texts[i]} → {text}");
                }
            }

            return 0;
        }));
        return command;
    }
}
