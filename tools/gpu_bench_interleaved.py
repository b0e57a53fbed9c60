#!/usr/bin/env python3
"""Interleaved benchmark: Migu.NET (`migu bench --serve`) against the PyTorch MIGU reference on one
device, in one call. Both stacks stay resident for a case and run blocks of steps in turn,
A B A B ..., so they share the card, its clocks and the host's moment; a block's median is one run,
and each (case, MIGU mode) gets ROUNDS runs per stack after one untimed warm round.

Sessions, most important first (a session that no longer fits the time budget is skipped, and every
reply is written to the jsonl as it comes, so a kill keeps what was measured):
  1-4. {llama-1b, t5-large} x {ft, lora}: per round, ours MIGU off, reference off, ours gradient,
       reference gradient.
  5.   llama-1b ft, ours alone: MIGU gradient mode under each step lever on its own (from none), all
       and none; update mode with none, indexed-rows and all (see PerformanceLevers).
  6.   llama-1b ft, ours alone, built with every lever off, then with the defaults (direct-bf16 acts
       at build time): build time and the memory the build leaves held.

Memory. Neither process frees what its caching allocator holds, and only the process running a block
allocates, so the device's used memory that grows during a block (or a build) belongs to the stack
that ran it; the driver reads it with nvidia-smi before and after every block. The reference also
reports torch's own peak allocated and reserved bytes per block. No sampler runs inside a timed loop.

Usage:
  gpu_bench_interleaved.py run --migu PATH_TO_migu --out OUT.jsonl [--budget-s 420] [--device cuda]
      [--rounds 5] [--tiny] [--only SESSION,...]
  gpu_bench_interleaved.py reference-server CASE --device cuda ...   (started by `run`)
--tiny runs the protocol on the tiny presets (a CPU check of the whole script: llama-tiny, t5-tiny;
the reference side then uses a plain-torch stand-in model when transformers is missing).
"""
import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Step levers, each measured on its own from "none" (direct-bf16 acts at build time only, so a
# block cannot switch it; indexed-rows acts in update mode only).
GRADIENT_LEVERS = ["none", "none,+fused-adamw", "none,+folded-masks", "none,+l1-recording",
                   "none,+fused-rmsnorm", "none,+chunked-ce", "default", "all"]
UPDATE_LEVERS = ["none", "none,+indexed-rows", "all"]


# ----------------------------------------------------------------------------- reference server

def reference_server(a):
    """Builds one reference case once, then runs `block MODE WARMUP STEPS` requests from stdin."""
    import torch
    spec_path = a.reference
    import importlib.util
    spec = importlib.util.spec_from_file_location("reference", spec_path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    out = sys.stdout

    def say(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    versions = {"torch": torch.__version__, "cuda": torch.version.cuda}
    try:
        import transformers
        import peft
        versions.update(transformers=transformers.__version__, peft=peft.__version__)
        have_hf = True
    except ImportError:
        have_hf = False
    say({"loaded": True, "stack": "pytorch", "pid": os.getpid(), **versions})
    # Wait for the go: the driver builds one stack at a time so that device memory growth is attributable.
    line = sys.stdin.readline()
    if line.strip() != "build":
        return
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    name, kind = a.case.rsplit("-", 1)
    lora = kind.startswith("lora")
    torch.manual_seed(0)
    import contextlib
    on_device = dev if hasattr(torch.device, "__enter__") else contextlib.nullcontext()  # torch >= 2.0
    with on_device:  # initialise on the device: no CPU init of a 1B model
        if have_hf:
            model, family, lora, _ = ref.build(a.case)
            stand_in = False
        elif "tiny" in name:
            model, family = tiny_stand_in(torch, name, lora), ("t5" if name.startswith("t5") else "llama")
            stand_in = True
        else:
            say({"error": "transformers/peft not importable: the reference needs them", "stack": "pytorch", "case": a.case})
            return
    model.to(dev).train()
    params = [p for p in model.parameters() if p.requires_grad]
    nparams = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0, fused=True) if cuda \
        else torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    g = torch.Generator(device=dev).manual_seed(1)
    src = a.seq if family == "llama" else a.src

    def batch_fn():
        x = torch.randint(2, 32000 if not stand_in else 250, (a.batch, src), device=dev, generator=g)
        if family == "t5":
            y = torch.randint(2, 32000 if not stand_in else 250, (a.batch, a.tgt), device=dev, generator=g)
            return dict(input_ids=x, attention_mask=torch.ones_like(x), labels=y), a.batch * (src + a.tgt)
        return dict(input_ids=x, attention_mask=torch.ones_like(x), labels=x), a.batch * src

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)

    tokens = batch_fn()[1]
    say({"ready": True, "stack": "pytorch", "case": a.case, "pid": os.getpid(), "params": nparams,
         "trainable": sum(p.numel() for p in params), "tokens_per_step": tokens, "dtype": "fp32+bf16-autocast",
         "device": torch.cuda.get_device_name(dev) if cuda else "cpu", "stand_in": stand_in, **versions})
    blocks = 0
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            say({"done": True, "stack": "pytorch", "case": a.case, "blocks": blocks})
            return
        try:
            if words[0] != "block" or len(words) != 4 or words[1] not in ("off", "gradient"):
                raise ValueError(f"expected 'block off|gradient WARMUP STEPS', got {line.strip()!r}")
            mode, warm, steps = words[1], int(words[2]), int(words[3])
            mg = ref.Migu(model, a.threshold, lora) if mode == "gradient" else None
            if cuda:
                torch.cuda.reset_peak_memory_stats(dev)
            times, loss = [], None
            try:
                for i in range(warm + steps):
                    inputs, _ = batch_fn()
                    sync()
                    t0 = time.perf_counter()
                    with torch.autocast(dev.type, dtype=torch.bfloat16):
                        loss = model(**inputs).loss
                    loss.backward()
                    if mg:
                        mg.apply()
                    opt.step()
                    opt.zero_grad(set_to_none=True)
                    sync()
                    if i >= warm:
                        times.append((time.perf_counter() - t0) * 1e3)
            finally:
                if mg:
                    for h in mg.handles:
                        h.remove()
            blocks += 1
            reply = {"stack": "pytorch", "case": a.case, "block": blocks, "migu": mode,
                     "median_ms": round(statistics.median(times), 3), "step_ms": [round(t, 3) for t in times],
                     "loss": round(loss.item(), 4)}
            if cuda:
                reply["max_allocated_gib"] = round(torch.cuda.max_memory_allocated(dev) / 2**30, 3)
                reply["max_reserved_gib"] = round(torch.cuda.max_memory_reserved(dev) / 2**30, 3)
            say(reply)
        except Exception as e:  # an OOM or a bad request: answer it and wait for the next one
            opt.zero_grad(set_to_none=True)
            say({"error": f"{type(e).__name__}: {e}"[:500], "stack": "pytorch", "case": a.case})


def tiny_stand_in(torch, name, lora):
    """A few-layer plain-torch language model with the reference's calling convention, for the CPU
    check of this script on machines without transformers (never used for a figure)."""
    nn = torch.nn

    class Out:
        def __init__(self, loss):
            self.loss = loss

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(256, 32)
            self.lora_A = nn.Linear(32, 32, bias=False) if lora else None
            self.up_proj = nn.Linear(32, 64)
            self.down_proj = nn.Linear(64, 32)
            self.lm_head = nn.Linear(32, 256)

        def forward(self, input_ids, attention_mask, labels):
            h = self.emb(input_ids).mean(1, keepdim=True).expand(-1, labels.shape[1], -1)
            if self.lora_A is not None:
                h = h + self.lora_A(h)
            h = h + self.down_proj(torch.relu(self.up_proj(h)))
            logits = self.lm_head(h)
            return Out(nn.functional.cross_entropy(logits.float().reshape(-1, 256), labels.reshape(-1)))

    model = Tiny()
    if lora:
        for p in model.parameters():
            p.requires_grad_(False)
        model.lora_A.weight.requires_grad_(True)
    return model


# ----------------------------------------------------------------------------- driver

class Proc:
    """A server process: requests on stdin, JSON replies on stdout read by a thread (so waits can time out)."""

    def __init__(self, label, argv, log, env=None):
        self.label = label
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                  text=True, bufsize=1, env=env)
        self.q = queue.Queue()
        self.log = log
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            line = line.strip()
            if line.startswith("{"):
                try:
                    self.q.put(json.loads(line))
                    continue
                except json.JSONDecodeError:
                    pass
            if line:
                self.log.write(f"[{self.label} stdout] {line}\n")
                self.log.flush()
        self.q.put(None)

    def send(self, text):
        try:
            self.p.stdin.write(text + "\n")
            self.p.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def reply(self, timeout):
        try:
            return self.q.get(timeout=max(timeout, 0.1))
        except queue.Empty:
            return {"error": f"no reply within {timeout:.0f} s", "timeout": True}

    def close(self):
        if self.p.poll() is None:
            self.send("quit")
            try:
                self.p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def gpu_used_mib():
    if not shutil.which("nvidia-smi"):
        return None
    try:
        text = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", "0"],
                              capture_output=True, text=True, timeout=10).stdout
        return int(text.split()[0])
    except (subprocess.SubprocessError, ValueError, IndexError):
        return None


class Driver:
    def __init__(self, a):
        self.a = a
        self.start = time.monotonic()
        self.deadline = self.start + a.budget_s
        self.out = open(a.out, "a", buffering=1)
        self.log = open(a.log, "a", buffering=1) if a.log else sys.stderr
        self.used = gpu_used_mib()  # device memory in use after the last block or build

    def used_now(self):
        before, self.used = self.used, gpu_used_mib()
        return before, self.used

    def left(self):
        return self.deadline - time.monotonic()

    def record(self, obj, **extra):
        obj = dict(obj or {"error": "process ended"})
        obj.update(extra)
        obj["t_s"] = round(time.monotonic() - self.start, 2)
        self.out.write(json.dumps(obj) + "\n")
        return obj

    def shape_args(self, family):
        a = self.a
        return ["--batch", str(a.batch)] + (["--seq-len", str(a.seq)] if family == "llama"
                                            else ["--src-len", str(a.src), "--tgt-len", str(a.tgt)])

    def start_ours(self, session, case, levers=None):
        family = "t5" if case.startswith("t5") else "llama"
        argv = [self.a.migu, "bench", "--cases", case, "--serve", "--device", self.a.device,
                "--threshold", str(self.a.threshold)] + self.shape_args(family) + (["--levers", levers] if levers else [])
        return Proc("ours " + session, argv, self.log)

    def start_reference(self, session, case):
        a = self.a
        argv = [sys.executable, os.path.abspath(__file__), "reference-server", case, "--reference", a.reference,
                "--device", a.device, "--batch", str(a.batch), "--seq", str(a.seq), "--src", str(a.src),
                "--tgt", str(a.tgt), "--threshold", str(a.threshold)]
        return Proc("reference " + session, argv, self.log)

    def block(self, proc, session, rnd, request, warm_round):
        t0 = time.monotonic()
        # A block once started may finish past the budget: the budget decides what starts, the
        # wrapper's hard timeout what ends.
        reply = proc.reply(0) if not proc.send(request) else proc.reply(self.a.block_timeout_s)
        before, after = self.used_now()
        return self.record(reply, event="block", session=session, round=rnd, warm=warm_round, request=request,
                           wall_s=round(time.monotonic() - t0, 2), gpu_used_mib_before=before, gpu_used_mib_after=after)

    def build(self, proc, session, stack, go=None):
        """Starts (or, for the reference, releases) a build and records it with the memory it took."""
        t0 = time.monotonic()
        if go:
            proc.send(go)
        reply = proc.reply(self.a.build_timeout_s)
        before, after = self.used_now()
        return self.record(reply, event="build", session=session, stack=stack, wall_s=round(time.monotonic() - t0, 2),
                           gpu_used_mib_before=before, gpu_used_mib_after=after)

    def pair_session(self, session, case, est_s):
        """Ours and the reference on one case, MIGU off and gradient mode, interleaved by block."""
        a = self.a
        if self.left() < est_s:
            self.record({"skipped": session, "reason": f"{self.left():.0f} s left, needs ~{est_s} s"}, event="skip",
                            session=session)
            return
        self.used = gpu_used_mib()  # the previous session's processes have ended
        ref = self.start_reference(session, case)  # imports transformers on the CPU meanwhile
        ours = self.start_ours(session, case)
        try:
            built = self.build(ours, session, "migu.net")
            loaded = ref.reply(self.a.build_timeout_s)
            self.record(loaded, event="loaded", session=session, stack="pytorch")
            ref_ok = "loaded" in (loaded or {}) and "ready" in self.build(ref, session, "pytorch", go="build")
            ours_ok = "ready" in built
            procs = ([("migu.net", ours)] if ours_ok else []) + ([("pytorch", ref)] if ref_ok else [])
            if not procs:
                return
            self.rounds(session, procs, [("off", "default"), ("gradient", "default")], (a.warmup, a.steps))
        finally:
            for p in (ours, ref):
                p.close()

    def rounds(self, session, procs, variants, shape, ours_only_modes=()):
        a = self.a
        rnd_time = None
        for rnd in range(a.rounds + 1):  # round 0: untimed warm round
            t0 = time.monotonic()
            if self.left() < (rnd_time or 0) + a.reserve_s:
                self.record({"stopped": session, "after_rounds": max(rnd - 1, 0), "reason": "time budget"},
                            event="stop", session=session)
                return
            # Odd rounds reverse the stacks' order and every round rotates the variants, so no stack or
            # variant always runs first (or right after the same neighbour).
            order = procs if rnd % 2 == 0 else procs[::-1]
            turn = rnd % len(variants)
            for mode, levers in variants[turn:] + variants[:turn]:
                for stack, proc in order:
                    if stack == "pytorch" and (mode in ours_only_modes or levers != "default"):
                        continue
                    warm, steps = (a.warm_round_steps, 1) if rnd == 0 else shape
                    request = (f"block {mode} {levers} {warm} {steps}" if stack == "migu.net"
                               else f"block {mode} {warm} {steps}")
                    r = self.block(proc, session, rnd, request, rnd == 0)
                    if r.get("timeout") or proc.p.poll() is not None:
                        self.record({"error": f"{stack} server gone or stuck; session ends"}, event="abort", session=session)
                        return
            took = time.monotonic() - t0
            # The warm round's steps are fewer: scale its time to a timed round's for the first estimate.
            rnd_time = took if rnd > 0 else took * sum(shape) / (a.warm_round_steps + 1)

    def lever_session(self, case, est_s):
        session = "levers-" + case
        if self.left() < est_s:
            self.record({"skipped": session, "reason": f"{self.left():.0f} s left, needs ~{est_s} s"}, event="skip",
                            session=session)
            return
        self.used = gpu_used_mib()
        ours = self.start_ours(session, case)
        try:
            if "ready" not in self.build(ours, session, "migu.net"):
                return
            variants = [("gradient", l) for l in GRADIENT_LEVERS] + [("update", l) for l in UPDATE_LEVERS]
            self.rounds(session, [("migu.net", ours)], variants, (self.a.lever_warmup, self.a.lever_steps),
                        ours_only_modes=("update",))
        finally:
            ours.close()

    def build_session(self, case, est_s):
        """The build-time lever (direct-bf16): ours builds the model with every lever off, then with the
        defaults, and quits; the build's wall time and the device memory it leaves held are the figures."""
        for spec in ("none", "default"):
            session = f"build-{spec}"
            if self.left() < est_s:
                self.record({"skipped": session, "reason": f"{self.left():.0f} s left, needs ~{est_s} s"}, event="skip",
                            session=session)
                return
            self.used = gpu_used_mib()
            ours = self.start_ours(session, case, levers=spec)
            try:
                self.build(ours, session, "migu.net")
            finally:
                ours.close()

    def run(self):
        a = self.a
        big = not a.tiny
        llama, t5 = ("llama-1b", "t5-large") if big else ("llama-tiny", "t5-tiny")
        # Rough needs in seconds (builds + warm round + rounds) on an H100, from call C's step times.
        sessions = [
            ("llama-ft", lambda: self.pair_session("llama-ft", f"{llama}-ft", 60 if big else 5)),
            ("llama-lora", lambda: self.pair_session("llama-lora", f"{llama}-lora", 60 if big else 5)),
            ("t5-ft", lambda: self.pair_session("t5-ft", f"{t5}-ft", 80 if big else 5)),
            ("t5-lora", lambda: self.pair_session("t5-lora", f"{t5}-lora", 100 if big else 5)),
            ("levers", lambda: self.lever_session(a.lever_case or f"{llama}-ft", 60 if big else 5)),
            ("build", lambda: self.build_session(f"{llama}-ft", 15 if big else 3)),
        ]
        only = set(a.only.split(",")) if a.only else None
        self.record({"driver": "gpu_bench_interleaved", "args": vars(a), "python": sys.version.split()[0]}, event="start")
        for name, go in sessions:
            if only is None or name in only:
                go()
        self.record({"finished": True, "left_s": round(self.left(), 1)}, event="end")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("run", "reference-server"):
        p = sub.add_parser(name)
        if name == "reference-server":
            p.add_argument("case")
        else:
            p.add_argument("--migu", required=True, help="the migu executable of the unpacked bundle")
            p.add_argument("--out", required=True, help="jsonl to append every reply to")
            p.add_argument("--log", help="servers' stderr and stray output (default: stderr)")
            p.add_argument("--budget-s", type=float, default=420, help="no round or session starts that would end after this")
            p.add_argument("--reserve-s", type=float, default=5)
            p.add_argument("--rounds", type=int, default=5, help="timed runs per (case, mode, stack), after one warm round")
            p.add_argument("--warmup", type=int, default=2, help="untimed steps at the start of each timed block")
            p.add_argument("--steps", type=int, default=6, help="timed steps per block (its median is one run)")
            p.add_argument("--lever-case", help="the lever session's case (default llama-1b-ft; llama-tiny-ft with --tiny)")
            p.add_argument("--lever-warmup", type=int, default=1, help="--warmup for the lever session")
            p.add_argument("--lever-steps", type=int, default=5, help="--steps for the lever session")
            p.add_argument("--warm-round-steps", type=int, default=3)
            p.add_argument("--block-timeout-s", type=float, default=90)
            p.add_argument("--build-timeout-s", type=float, default=150)
            p.add_argument("--tiny", action="store_true", help="tiny presets: a CPU check of the whole protocol")
            p.add_argument("--only", help="sessions to run: llama-ft,llama-lora,t5-ft,t5-lora,levers,build")
        p.add_argument("--reference", default=os.path.join(HERE, "pytorch_migu_reference.py"))
        p.add_argument("--device", default="cuda")
        p.add_argument("--batch", type=int, default=8)
        p.add_argument("--seq", type=int, default=1024, help="llama tokens")
        p.add_argument("--src", type=int, default=256, help="t5 source tokens")
        p.add_argument("--tgt", type=int, default=16, help="t5 target tokens")
        p.add_argument("--threshold", type=float, default=0.7)
    a = ap.parse_args()
    if a.cmd == "reference-server":
        reference_server(a)
    else:
        Driver(a).run()


if __name__ == "__main__":
    main()
