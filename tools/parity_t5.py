#!/usr/bin/env python3
"""Golden fixtures for Migu.NET's T5 (tests/Migu.Models.Tests/T5), made with transformers.

Two tiny random models, CPU, fp32, eval mode (no dropout):
  * v10: T5 v1.0 style (feed_forward_proj "relu", tied embeddings, decoder output scaled by d_model^-0.5);
  * v11: T5 v1.1 / FLAN style ("gated-gelu", built with tie_word_embeddings=False, more encoder than
    decoder layers). transformers 5.17 forces tie_word_embeddings to true for T5 and keeps the
    legacy flag as scale_decoder_outputs=false, so this checkpoint has a tied head that is not scaled
    (no lm_head.weight is saved); the C# tests cover an untied head by adding lm_head.weight to it.
Encoder inputs are 40 tokens (8 buckets, max distance 16, so the far buckets are reached), batch of
2 with right padding. Each model is saved with save_pretrained (safetensors) into OUT/<name>/ and
OUT/<name>.json records: inputs, logits (with and without a decoder attention mask), loss (labels
with -100), gradients of a few parameters, per-Linear magnitudes (sum over unmasked tokens of |y|
per output unit, fp32, from forward hooks; encoder-side tokens with the encoder mask, decoder-side
tokens with the decoder mask), and greedy generations (8 new tokens, EOS chosen so that one row
stops early). OUT/keys.json lists parameter names and shapes of full-size presets built on the meta
device, for the C# shape test (5.17 ties flan-t5-small's head too, so it lists no lm_head.weight).

Usage: python3 tools/parity_t5.py OUTDIR
"""
import json
import os
import sys
import traceback

import torch
import transformers
from transformers import T5Config, T5ForConditionalGeneration

B, T_ENC, T_DEC, NEW = 2, 40, 7, 8
ENC_LENGTHS = [40, 28]
DEC_LENGTHS = [7, 5]

TINY = dict(vocab_size=64, d_model=16, d_kv=6, num_heads=3, d_ff=24,
            relative_attention_num_buckets=8, relative_attention_max_distance=16,
            dropout_rate=0.1, layer_norm_epsilon=1e-6, pad_token_id=0, eos_token_id=1,
            decoder_start_token_id=0)

MODELS = {
    "v10": dict(TINY, num_layers=2, num_decoder_layers=2, feed_forward_proj="relu", tie_word_embeddings=True),
    # More encoder than decoder layers: transformers 5.17's generate sizes the decoder cache by
    # num_layers and fails when the decoder is deeper.
    "v11": dict(TINY, num_layers=3, num_decoder_layers=2, feed_forward_proj="gated-gelu", tie_word_embeddings=False),
}

PRESETS = {
    "t5-large": dict(vocab_size=32128, d_model=1024, d_kv=64, d_ff=4096, num_layers=24, num_heads=16,
                     feed_forward_proj="relu", tie_word_embeddings=True),
    "flan-t5-small": dict(vocab_size=32128, d_model=512, d_kv=64, d_ff=1024, num_layers=8, num_decoder_layers=8,
                          num_heads=6, feed_forward_proj="gated-gelu", tie_word_embeddings=False),
}


def flat(t):
    return t.detach().float().reshape(-1).tolist()


def randomize(model):
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layer_norm.weight"):
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif "relative_attention_bias" in name or name == "shared.weight":
                p.copy_(torch.randn(p.shape, generator=g))
            else:  # larger than T5's init, so that greedy decoding varies from step to step
                p.copy_(1.5 * torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)


def inputs():
    g = torch.Generator().manual_seed(11)
    ids = torch.randint(2, 64, (B, T_ENC), generator=g)
    mask = torch.zeros(B, T_ENC, dtype=torch.long)
    for b, n in enumerate(ENC_LENGTHS):
        mask[b, :n] = 1
    ids[mask == 0] = 0
    labels = torch.randint(2, 64, (B, T_DEC), generator=g)
    dec_mask = torch.zeros(B, T_DEC, dtype=torch.long)
    for b, n in enumerate(DEC_LENGTHS):
        labels[b, n:] = -100
        dec_mask[b, :n] = 1
    return ids, mask, labels, dec_mask


def magnitudes(model, enc_mask, dec_mask, run):
    mags, hooks = {}, []
    for name, mod in model.named_modules():
        if not isinstance(mod, torch.nn.Linear):
            continue
        encoder_side = name.startswith("encoder.") or ".EncDecAttention.k" in name or ".EncDecAttention.v" in name
        m = (enc_mask if encoder_side else dec_mask).reshape(-1).float()

        def hook(_mod, _inp, out, name=name, m=m):
            with torch.no_grad():
                y = out.detach().float().reshape(-1, out.shape[-1])
                mags[name] = mags.get(name, 0) + (y.abs() * m.unsqueeze(1)).sum(0)
        hooks.append(mod.register_forward_hook(hook))
    try:
        result = run()
    finally:
        for h in hooks:
            h.remove()
    return {k: flat(v) for k, v in mags.items()}, result


def choose_eos(model, ids, mask):
    """An EOS that row 0 emits early and row 1 never emits: one row stops, one runs on."""
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=NEW, do_sample=False, num_beams=1,
                             eos_token_id=model.config.vocab_size - 1, pad_token_id=0, decoder_start_token_id=0)
    row0, row1 = out[0, 1:].tolist(), out[1, 1:].tolist()
    for s in (3, 2, 4, 1, 5):
        if s < len(row0) and row0[s] not in row0[:s] and row0[s] not in row1 and row0[s] != 0:
            return row0[s]
    print("no early EOS found; keeping 1")
    return 1


def one(name, kwargs, out_dir):
    torch.manual_seed(1234)
    cfg = T5Config(**kwargs)
    model = T5ForConditionalGeneration(cfg).eval()
    randomize(model)
    ids, mask, labels, dec_mask = inputs()
    eos = choose_eos(model, ids, mask)
    model.config.eos_token_id = eos
    model.generation_config.eos_token_id = eos
    model.save_pretrained(os.path.join(out_dir, name), safe_serialization=True)

    def run():
        return model(input_ids=ids, attention_mask=mask, labels=labels, decoder_attention_mask=dec_mask)
    mags, out = magnitudes(model, mask, dec_mask, run)
    out.loss.backward()
    grads = {}
    for p in ["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
              "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
              "decoder.block.1.layer.1.EncDecAttention.q.weight",
              "encoder.block.1.layer.1.DenseReluDense.wo.weight",
              "shared.weight"] + ([] if cfg.tie_word_embeddings else ["lm_head.weight"]):
        grads[p] = flat(model.get_parameter(p).grad)
    with torch.no_grad():
        plain = model(input_ids=ids, attention_mask=mask, labels=labels)
        # Is the decoder output scaled before the head? (decides the C# model's behaviour; recorded, not assumed)
        dec_in = model._shift_right(labels)
        enc = model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        h = model.decoder(input_ids=dec_in, encoder_hidden_states=enc, encoder_attention_mask=mask,
                          attention_mask=dec_mask).last_hidden_state
        scaled = torch.allclose(model.lm_head(h * cfg.d_model ** -0.5), out.logits, atol=1e-5)
        gen = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=NEW, do_sample=False, num_beams=1)
    record = dict(
        torch_version=torch.__version__, transformers_version=transformers.__version__,
        batch=B, enc_len=T_ENC, dec_len=T_DEC, vocab=cfg.vocab_size, eos_token_id=eos,
        input_ids=flat(ids), attention_mask=flat(mask), labels=flat(labels), decoder_attention_mask=flat(dec_mask),
        decoder_input_ids=flat(dec_in), decoder_output_scaled=bool(scaled),
        logits=flat(out.logits), loss=out.loss.item(), logits_no_decoder_mask=flat(plain.logits),
        loss_no_decoder_mask=plain.loss.item(), grads=grads, magnitudes=mags,
        generated=gen.tolist(), max_new_tokens=NEW)
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(record, f)
    print(f"{name}: loss {out.loss.item():.6f} eos {eos} scaled {scaled} generated {gen.tolist()}")


def keys(out_dir):
    result = {}
    for name, kwargs in PRESETS.items():
        with torch.device("meta"):
            model = T5ForConditionalGeneration(T5Config(**kwargs))
        result[name] = dict(config=kwargs, parameters={n: list(p.shape) for n, p in model.named_parameters()},
                            state_dict=sorted(model.state_dict().keys()))
    with open(os.path.join(out_dir, "keys.json"), "w") as f:
        json.dump(result, f)
    print("keys:", {k: len(v["parameters"]) for k, v in result.items()})


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for name, kwargs in MODELS.items():
        try:
            one(name, kwargs, out_dir)
        except Exception:  # keep what the other parts produce
            traceback.print_exc()
    keys(out_dir)
    print(f"torch {torch.__version__} transformers {transformers.__version__}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "t5_fixtures")
