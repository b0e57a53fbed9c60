#!/usr/bin/env python3
"""Golden file for Migu.Core's parity test, made with plain PyTorch (CPU is enough).

A three-layer tanh MLP (fc1 8->16, fc2 16->16, fc3 16->8 without bias) on padded batches.
Step 1 trains without MIGU (AdamW). Steps 2 and 3 train with MIGU at T = 0.7:
  * magnitudes: sum over non-padding tokens of |y| per output unit, fp32, from forward hooks;
  * masks: the paper's rule, written here independently of torch.sort: keep the
    d - floor(T*d) largest units, ties to the lower index;
  * quantile masks: the reference code's rule, n >= torch.quantile(n, T);
  * "gradient" mode: masked rows of weight.grad zeroed, then torch.optim.AdamW;
  * "update" mode: a per-row AdamW written out by hand, in which masked rows keep their
    weights and moments and each row counts only the steps it took.

Usage: python3 tools/migu_core_golden.py OUT.json
"""
import copy
import json
import math
import sys

import torch

T = 0.7
LR, BETAS, EPS, WD = 0.01, (0.9, 0.999), 1e-8, 0.1
B, S, D_IN = 2, 6, 8


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(D_IN, 16)
        self.fc2 = torch.nn.Linear(16, 16)
        self.fc3 = torch.nn.Linear(16, D_IN, bias=False)

    def forward(self, x):
        return self.fc3(torch.tanh(self.fc2(torch.tanh(self.fc1(x)))))


def linears(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


def loss_of(model, x, mask, target):
    y = model(x)
    m = mask.unsqueeze(-1).float()
    return ((y - target) ** 2 * m).sum() / mask.sum()


def record_magnitudes(model, x, mask, target):
    """Forward + backward; returns {name: magnitudes} recorded by hooks outside autograd."""
    mags = {}
    hooks = []
    flat = mask.reshape(-1).float()
    for name, lin in linears(model):
        def hook(_m, _inp, out, name=name):
            with torch.no_grad():
                y = out.detach().reshape(-1, out.shape[-1]).float()
                mags[name] = mags.get(name, 0) + (y.abs() * flat.unsqueeze(1)).sum(0)
        hooks.append(lin.register_forward_hook(hook))
    loss = loss_of(model, x, mask, target)
    loss.backward()
    for h in hooks:
        h.remove()
    return mags, loss.item()


def topk_mask(n):
    d = n.numel()
    keep = d - math.floor(T * d)
    vals = n.tolist()
    order = sorted(range(d), key=lambda i: (-vals[i], i))[:keep]
    m = torch.zeros(d)
    m[order] = 1.0
    return m


def quantile_mask(n):
    return (n >= torch.quantile(n, T)).float()


def state_of(model):
    return {k: v.detach().reshape(-1).tolist() for k, v in model.state_dict().items()}


class RowAdamW:
    """AdamW with per-row gating for row-masked weights (update mode), by hand."""

    def __init__(self, model, torch_states):
        self.state = {}
        for name, p in model.named_parameters():
            st = torch_states[p]
            steps = torch.full((p.shape[0],), float(st["step"]))
            self.state[name] = dict(m=st["exp_avg"].clone(), v=st["exp_avg_sq"].clone(), steps=steps)

    @torch.no_grad()
    def step(self, model, masks):
        b1, b2 = BETAS
        for name, p in model.named_parameters():
            st = self.state[name]
            layer = name.rsplit(".", 1)[0]
            row_mask = masks.get(layer) if name.endswith("weight") else None
            for r in range(p.shape[0]):
                if row_mask is not None and row_mask[r] == 0:
                    continue  # this row does not move at all
                st["steps"][r] += 1
                t = st["steps"][r].item()
                g = p.grad[r]
                p[r].mul_(1 - LR * WD)
                st["m"][r] = b1 * st["m"][r] + (1 - b1) * g
                st["v"][r] = b2 * st["v"][r] + (1 - b2) * g * g
                mhat = st["m"][r] / (1 - b1 ** t)
                vhat = st["v"][r] / (1 - b2 ** t)
                p[r] -= LR * mhat / (vhat.sqrt() + EPS)


def main(out_path):
    torch.manual_seed(1234)
    model = Mlp()
    for _, lin in linears(model):  # non-trivial, well-spread weights
        torch.nn.init.normal_(lin.weight, std=0.5)
    initial = state_of(model)
    batches = []
    for mask in ([[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]],
                 [[1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]],
                 [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0]]):
        x = torch.randn(B, S, D_IN)
        mask = torch.tensor(mask)
        x[mask == 0] = 10.0  # padding with large values: counting it would show
        batches.append(dict(x=x, mask=mask, target=torch.randn(B, S, D_IN)))

    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
    opt.zero_grad()
    _, loss1 = record_magnitudes(model, **batches[0])
    opt.step()
    after_step1 = state_of(model)

    golden = dict(threshold=T, lr=LR, betas=list(BETAS), eps=EPS, weight_decay=WD,
                  batch=B, seq=S, d_in=D_IN, torch_version=torch.__version__,
                  batches=[dict(x=b["x"].reshape(-1).tolist(), mask=b["mask"].reshape(-1).tolist(),
                                target=b["target"].reshape(-1).tolist()) for b in batches],
                  initial=initial, loss1=loss1, after_step1=after_step1)

    # Gradient mode: the paper. Masked grad rows, then torch's own AdamW.
    g_model = copy.deepcopy(model)
    g_opt = torch.optim.AdamW(g_model.parameters(), lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
    g_opt.load_state_dict(opt.state_dict())
    # Update mode: per-row AdamW by hand, from the same state.
    u_model = copy.deepcopy(model)
    u_opt = RowAdamW(u_model, {p_new: opt.state[p_old] for p_new, p_old in zip(u_model.parameters(), model.parameters())})

    steps = []
    for b in batches[1:]:
        g_opt.zero_grad()
        g_mags, g_loss = record_magnitudes(g_model, **b)
        g_masks = {k: topk_mask(v) for k, v in g_mags.items()}
        with torch.no_grad():
            for name, lin in linears(g_model):
                lin.weight.grad.mul_(g_masks[name].unsqueeze(1))
        g_opt.step()

        for p in u_model.parameters():
            p.grad = None
        u_mags, u_loss = record_magnitudes(u_model, **b)
        u_masks = {k: topk_mask(v) for k, v in u_mags.items()}
        u_opt.step(u_model, u_masks)

        steps.append(dict(
            gradient=dict(loss=g_loss, magnitudes={k: v.tolist() for k, v in g_mags.items()},
                          masks={k: v.tolist() for k, v in g_masks.items()},
                          quantile_masks={k: quantile_mask(v).tolist() for k, v in g_mags.items()},
                          after=state_of(g_model)),
            update=dict(loss=u_loss, magnitudes={k: v.tolist() for k, v in u_mags.items()},
                        masks={k: v.tolist() for k, v in u_masks.items()},
                        after=state_of(u_model))))
    golden["masked_steps"] = steps
    with open(out_path, "w") as f:
        json.dump(golden, f)
    print(f"wrote {out_path}: torch {torch.__version__}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "migu_core_golden.json")
