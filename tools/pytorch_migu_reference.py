"""PyTorch + Hugging Face reference for MIGU training throughput.
(A copy of ../shared/reference/pytorch_migu_reference.py, this note added, carried to the device call by
tools/gpu_bench_interleaved.py, which uses its build() and Migu.)

Builds models from configs (random init, no downloads), trains a few steps
with and without MIGU masking (forward hooks summing |output| per Linear,
quantile threshold, row mask on weight.grad; as the official code does),
and prints one JSON line per case with step time and tokens/s.

Usage: python3 pytorch_migu_reference.py [--cases t5-large-ft,...] [--steps 20]
"""
import argparse, json, time, math
import torch, torch.nn as nn

def t5_config(size):
    from transformers import T5Config
    dims = {"t5-small": (512, 2048, 6, 8), "t5-base": (768, 3072, 12, 12), "t5-large": (1024, 4096, 24, 16)}[size]
    d, ff, L, h = dims
    return T5Config(vocab_size=32128, d_model=d, d_kv=64, d_ff=ff, num_layers=L, num_decoder_layers=L,
                    num_heads=h, feed_forward_proj="relu", dropout_rate=0.1, decoder_start_token_id=0, pad_token_id=0)

def llama_config(size):
    from transformers import LlamaConfig
    d, ff, L, h = {"llama-1b": (2048, 5632, 16, 16), "llama-160m": (768, 2048, 12, 12)}[size]
    return LlamaConfig(vocab_size=32000, hidden_size=d, intermediate_size=ff, num_hidden_layers=L,
                       num_attention_heads=h, num_key_value_heads=h, max_position_embeddings=2048)

class Migu:
    """Official-style MIGU: accumulate sum |out| per Linear over the step, mask grad rows."""
    def __init__(self, model, T, lora=False):
        self.T, self.sums, self.handles, self.mods = T, {}, [], {}
        for name, m in model.named_modules():
            if isinstance(m, nn.Linear) and (not lora or "lora_" in name):
                if name.endswith("lm_head"):
                    continue
                self.mods[name] = m
                self.handles.append(m.register_forward_hook(self._hook(name)))
    def _hook(self, name):
        def f(mod, inp, out):
            s = out.detach().abs().reshape(-1, out.shape[-1]).float().sum(0)
            if name in self.sums: self.sums[name] += s
            else: self.sums[name] = s
        return f
    def apply(self):
        for name, s in self.sums.items():
            w = self.mods[name].weight
            if w.grad is None: continue
            thr = torch.quantile(s, self.T)
            w.grad.mul_((s >= thr).to(w.grad.dtype).unsqueeze(-1))
        self.sums = {}

def build(case):
    name, mode = case.rsplit("-", 1)  # mode: ft, ftmigu, lora, loramigu
    if name.startswith("t5"):
        from transformers import T5ForConditionalGeneration
        model = T5ForConditionalGeneration(t5_config(name))
        kind = "t5"
    else:
        from transformers import LlamaForCausalLM
        cfg = llama_config(name); cfg._attn_implementation = "sdpa"
        model = LlamaForCausalLM(cfg)
        kind = "llama"
    lora = mode.startswith("lora")
    if lora:
        from peft import LoraConfig, get_peft_model
        targets = ["q", "k", "v", "o", "wi", "wo"] if kind == "t5" else ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=32, target_modules=targets, lora_dropout=0.0))
    return model.cuda(), kind, lora, mode.endswith("migu")

def run(case, steps, warm, batch, src, tgt, T):
    torch.manual_seed(0)
    model, kind, lora, migu = build(case)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    nparams = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0, fused=True)
    mg = Migu(model, T, lora) if migu else None
    g = torch.Generator(device="cuda").manual_seed(1)
    def batch_fn():
        if kind == "t5":
            x = torch.randint(2, 32000, (batch, src), device="cuda", generator=g)
            y = torch.randint(2, 32000, (batch, tgt), device="cuda", generator=g)
            return dict(input_ids=x, attention_mask=torch.ones_like(x), labels=y), batch * (src + tgt)
        x = torch.randint(2, 32000, (batch, src), device="cuda", generator=g)
        return dict(input_ids=x, attention_mask=torch.ones_like(x), labels=x), batch * src
    times = []
    for i in range(warm + steps):
        inputs, ntok = batch_fn()
        torch.cuda.synchronize(); t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(**inputs).loss
        loss.backward()
        if mg: mg.apply()
        opt.step(); opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize(); t1 = time.perf_counter()
        if i >= warm: times.append(t1 - t0)
    times.sort(); med = times[len(times) // 2]
    res = dict(case=case, params=nparams, batch=batch, src=src, tgt=tgt, step_ms=round(med * 1e3, 2),
               tokens_per_s=round(ntok / med), peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2),
               loss=round(loss.item(), 4))
    if kind == "llama" and not lora:
        res["mfu_pct"] = round(100 * 6 * nparams * ntok / med / 989e12, 1)
    del model, opt, mg; torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
    return res

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="t5-large-ft,t5-large-ftmigu,t5-large-lora,t5-large-loramigu,llama-1b-ft,llama-1b-ftmigu,llama-1b-lora,llama-1b-loramigu")
    ap.add_argument("--steps", type=int, default=20); ap.add_argument("--warm", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8); ap.add_argument("--src", type=int, default=256)
    ap.add_argument("--tgt", type=int, default=16); ap.add_argument("--threshold", type=float, default=0.7)
    a = ap.parse_args()
    print(json.dumps(dict(torch=torch.__version__, device=torch.cuda.get_device_name(0))), flush=True)
    for c in a.cases.split(","):
        src = a.src if c.startswith("t5") else 1024
        print(json.dumps(run(c, a.steps, a.warm, a.batch, src, a.tgt, a.threshold)), flush=True)
