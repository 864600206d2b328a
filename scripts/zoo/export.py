#!/usr/bin/python3
"""Exports torchvision CNNs to ONNX with PyTorch's CPU output beside them, for `npm run zoo` (scripts/zoo.ts).

Run with Debian's interpreter (python3-torch, python3-torchvision, python3-onnx):

    /usr/bin/python3 scripts/zoo/export.py --models resnet18@64,inception_v3@299 [--opset 13] [--batch 1]
        [--seed 0] [--cache zoo-cache] [--verbose]

Each model comes from scripts/zoo/models.json (its constructor arguments and task), with random weights (no
downloads). Every BatchNorm's statistics are first measured on a seeded calibration batch (so activations keep a
moderate scale however deep the network) and then perturbed, with random affine weights, so that folding the
BatchNorm into the convolution is really exercised; a BatchNorm that ends a residual branch gets a small gain,
as in trained networks (else a deep random ResNet is chaotic, and PyTorch's own float32 rounding exceeds the
zoo's tolerance); so does one that ends a concatenation's longer branch, in the models whose entry asks for it
(`concatBranchGain`: Inception v3, which is ill-conditioned without it; those exports' folders end in
`_cbg<gain>`). Per model, under CACHE/<model>_op<opset>_b<batch>_s<side>_seed<seed>/:

    model.onnx    input `input` [batch, 3, side, side], output `output` (segmentation: the `out` entry); a model
                  over protobuf's 2 GB (regnet_y_128gf) keeps its weights in files beside it, one per initializer,
                  named after it (torch 1.13's torch.onnx.export does that by itself past 2 GB; webcnn's
                  loadModelFile reads them)
    input.bin     the seeded input, float32 little-endian, NCHW
    output.bin    PyTorch's CPU output for it, float32 little-endian
    meta.json     shapes, ONNX node count and op types, max|output|, PyTorch's float32 error against its own
                  float64 forward, external data files and bytes, versions, export seconds

meta.json is written last; a folder with a meta.json of the same recipe is reused without exporting again.
stdout carries one JSON object per model and line ({"name", "side", "dir", "status": "exported" | "cached" |
"error", "error"?, "seconds"}); progress goes to stderr.
"""
import argparse
import json
import os
import sys
import time
import traceback
import warnings

# Bump when the way weights, statistics or inputs are made changes: cached exports of another recipe are redone.
RECIPE = 5

HERE = os.path.dirname(os.path.abspath(__file__))


def log(message):
    print(f"[zoo export] {message}", file=sys.stderr, flush=True)


def load_table(path):
    with open(path) as f:
        table = json.load(f)
    return {m["name"]: m for m in table["models"]}


def build(entry):
    import torchvision

    kwargs = dict(entry.get("kwargs", {}))
    if entry["task"] == "segmentation":
        # weights_backbone defaults to ImageNet weights (a download): none here, nor the aux head.
        net = torchvision.models.get_model(entry["name"], weights=None, weights_backbone=None, **kwargs)
        # The `out` entry alone, with the module names (and so the ONNX node names) of the model itself.
        forward = net.forward
        net.forward = lambda x: forward(x)["out"]
        return net
    return torchvision.models.get_model(entry["name"], weights=None, **kwargs)


# The gain of a BatchNorm whose output is added to a residual stream: small, as in trained networks. At
# gamma ~ 1 on every branch a deep random ResNet is chaotic: PyTorch's own float32 forward then differs from its
# float64 one by more than the zoo's tolerance (resnet152: 5e-4 x max|output| at 64x64, 2e-4 at 224x224).
RESIDUAL_GAIN = 0.2


def forward_with_hooks(net, x, hooks, mode=None):
    """`net(x)` without gradients (inside the TorchFunctionMode `mode`, when given), the `hooks` removed after."""
    import contextlib

    import torch

    try:
        with torch.no_grad(), mode or contextlib.nullcontext():
            net(x)
    finally:
        for h in hooks:
            h.remove()


def residual_batch_norms(net, x):
    """The BatchNorms that end a residual branch: their output goes straight into an addition and nowhere else
    before it (the stream `x` of `x + f(x)` went into `f` first), and they are not on a shortcut (torchvision's
    `downsample` / `proj` / `shortcut` modules)."""
    import weakref

    import torch
    from torch.overrides import TorchFunctionMode

    names = {m: n for n, m in net.named_modules()}
    outputs = weakref.WeakValueDictionary()  # id(output) -> output, for the BatchNorm in `owner`
    owner = {}
    consumed = set()  # ids of BatchNorm outputs that some module took as its input
    found = set()

    def bn_hook(bn, inputs, output):
        outputs[id(output)] = output
        owner[id(output)] = bn
        consumed.discard(id(output))

    def any_hook(module, inputs, output):
        # A module that hands its input back (Dropout, StochasticDepth in eval mode) passes it on, not uses it.
        for a in inputs:
            if isinstance(a, torch.Tensor) and a is not output and outputs.get(id(a)) is a:
                consumed.add(id(a))

    class WatchAdds(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if getattr(func, "__name__", "") in ("add", "add_", "__add__", "__iadd__", "__radd__"):
                for a in args:
                    if isinstance(a, torch.Tensor) and outputs.get(id(a)) is a and id(a) not in consumed:
                        bn = owner[id(a)]
                        if not any(k in names.get(bn, "") for k in ("downsample", "proj", "shortcut")):
                            found.add(bn)
            return func(*args, **(kwargs or {}))

    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    hooks = [bn.register_forward_hook(bn_hook) for bn in bns]
    hooks += [m.register_forward_hook(any_hook) for m in net.modules() if not list(m.children())]
    forward_with_hooks(net, x, hooks, WatchAdds())
    return found


# The gain of a BatchNorm that ends one of a concatenation's longer branches (more convolutions since the
# branches parted than the concatenation's shortest branch has), for the models whose table entry asks for it
# (`concatBranchGain`: Inception v3). The concatenation's shortest branch then carries most of the signal, as a
# residual network's shortcut does. A random Inception v3 at gain 1 is chaotic: with ReLU after each calibrated
# BatchNorm, every layer amplifies a relative perturbation by about 1.2 (the BatchNorm removes the ReLU output's
# mean from the signal but not from the rounding error), so along its 47 convolutions PyTorch's own float32
# output drifts from its float64 one towards the zoo's tolerance (measured: docs/zoo.md). A gain on every branch
# would change nothing: the next BatchNorm rescales it away.
def concat_branch_gain(entry):
    return entry.get("concatBranchGain")


def recipe_of(entry):
    """The recipe key in meta.json: RECIPE, with the model's own conditioning where its entry asks for one (so
    that a change to one model's recipe re-exports that model only)."""
    gain = concat_branch_gain(entry)
    return RECIPE if gain is None else f"{RECIPE}+concatBranchGain={gain}"


def folder_name(entry, opset, batch, side, seed):
    """The export's folder in the cache. A model with its own conditioning gets its own folders, so that runs of
    harnesses from before and after it share a cache without re-exporting each other's files."""
    gain = concat_branch_gain(entry)
    variant = "" if gain is None else f"_cbg{gain}"
    return f"{entry['name']}_op{opset}_b{batch}_s{side}_seed{seed}{variant}"


def long_concat_branch_batch_norms(net, x):
    """The BatchNorms that end a concatenation's longer branches: a forward tracks, per tensor, the length of the
    longest chain of convolutions behind it and the BatchNorms whose outputs it is (through one-input functions
    such as ReLU, and through inner concatenations, as Inception's 3x3 branch that splits into 1x3 and 3x1); at
    every concatenation the inputs with a longer chain than the shortest input give their BatchNorms."""
    import weakref

    import torch
    from torch.overrides import TorchFunctionMode

    tensors = weakref.WeakValueDictionary()  # id -> tensor, for the entries below
    depth = {}  # id -> convolutions on the longest path from the network input
    ends = {}  # id -> frozenset of BatchNorms whose output this tensor is
    found = set()

    def tracked(t):
        return isinstance(t, torch.Tensor) and tensors.get(id(t)) is t

    def record(t, d, e):
        tensors[id(t)] = t
        depth[id(t)] = d
        ends[id(t)] = e

    def flat(values):
        for v in values:
            if isinstance(v, (list, tuple)):
                yield from flat(v)
            else:
                yield v

    def bn_hook(bn, inputs, output):
        d = depth.get(id(inputs[0]), 0) if tracked(inputs[0]) else 0
        record(output, d, frozenset([bn]))

    class Track(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            name = getattr(func, "__name__", "")
            inputs = [a for a in flat(list(args) + list((kwargs or {}).values())) if isinstance(a, torch.Tensor)]
            # A tensor the forward did not make (the network input, a weight) is at depth 0 and ends nothing.
            depths = [depth[id(a)] if tracked(a) else 0 for a in inputs]
            endings = [ends[id(a)] if tracked(a) else frozenset() for a in inputs]
            d = max(depths, default=0)
            if name == "cat":
                for a_depth, a_ends in zip(depths, endings):
                    if a_depth > min(depths):
                        found.update(a_ends)
                e = frozenset().union(*endings)
            else:
                e = endings[0] if len(inputs) == 1 else frozenset()
            if name.startswith("conv"):
                d += 1
            if isinstance(out, torch.Tensor):
                record(out, d, e)
            return out

    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    forward_with_hooks(net, x, [bn.register_forward_hook(bn_hook) for bn in bns], Track())
    return found


def randomise_batch_norms(net, side, seed, concat_gain=None):
    """Calibrated, then perturbed BatchNorm statistics and affine weights; returns how many BatchNorms there were,
    how many of them end a residual branch and how many a concatenation's longer branch.

    An eval-mode forward over a seeded calibration batch: a hook sets each BatchNorm's running statistics from
    the input it is about to normalise (which the BatchNorms upstream, already set, produced), perturbed, so
    that activations keep a moderate scale however deep the network is, and the statistics are not the identity.
    A first forward finds the BatchNorms that end residual branches: their gain is RESIDUAL_GAIN; with
    `concat_gain`, another finds those that end a concatenation's longer branches: their gain is `concat_gain`.
    """
    import torch

    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0, 0, 0
    gen = torch.Generator().manual_seed(seed + 1000)
    net.eval()
    # Enough samples per channel where the last stages' maps are 1x1 or 2x2.
    calibration = torch.randn((8 if side <= 128 else 2, 3, side, side), generator=gen)
    residual = residual_batch_norms(net, calibration)
    long_branches = set() if concat_gain is None else long_concat_branch_batch_norms(net, calibration)

    def calibrate(bn, inputs):
        x = inputs[0]
        dims = [0] + list(range(2, x.dim()))
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=False)
        std = var.clamp_min(1e-6).sqrt()
        bn.running_mean.copy_(mean + 0.2 * std * torch.randn(mean.shape, generator=gen))
        # Log-normal factor: positive, mostly within [0.6, 1.7].
        bn.running_var.copy_((var * torch.exp(0.25 * torch.randn(var.shape, generator=gen))).clamp_min(1e-4))
        if bn.affine:
            gain = RESIDUAL_GAIN if bn in residual else concat_gain if bn in long_branches else 1.0
            bn.weight.copy_(gain * (1.0 + 0.25 * torch.randn(bn.weight.shape, generator=gen)))
            bn.bias.copy_(gain * 0.1 * torch.randn(bn.bias.shape, generator=gen))

    seen = set()

    def pre_hook(bn, inputs):
        if id(bn) not in seen:
            seen.add(id(bn))
            calibrate(bn, inputs)

    forward_with_hooks(net, calibration, [bn.register_forward_pre_hook(pre_hook) for bn in bns])
    if len(seen) != len(bns):
        raise RuntimeError(f"{len(bns) - len(seen)} of {len(bns)} BatchNorms were not reached by the forward pass")
    return len(bns), len(residual), len(long_branches)


def export_one(entry, side, opset, batch, seed, folder):
    import numpy as np
    import onnx
    import torch
    import torchvision

    torch.manual_seed(seed)
    net = build(entry)
    concat_gain = concat_branch_gain(entry)
    bn_count, residual_count, long_branch_count = randomise_batch_norms(net, side, seed, concat_gain)
    net.eval()
    x = torch.randn((batch, 3, side, side), generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        y = net(x)
    if not isinstance(y, torch.Tensor):
        raise RuntimeError(f"forward returned {type(y).__name__}, not a tensor (aux outputs on?)")
    tmp = os.path.join(folder, "model.onnx.tmp")
    torch.onnx.export(
        net,
        x,
        tmp,
        input_names=["input"],
        output_names=["output"],
        opset_version=opset,
        do_constant_folding=True,
    )
    os.replace(tmp, os.path.join(folder, "model.onnx"))
    # PyTorch's own float32 error, against its float64 forward: how well conditioned the random network is (a
    # webcnn error near it is rounding, not a bug).
    with torch.no_grad():
        y64 = net.double()(x.double())
    f32_error = float((y.double() - y64).abs().max())
    del net
    model = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
    # Files of external data (models over 2 GB): their count and bytes, beside model.onnx's own.
    locations = {
        e.value
        for t in model.graph.initializer
        if t.data_location == onnx.TensorProto.EXTERNAL
        for e in t.external_data
        if e.key == "location"
    }
    external_bytes = sum(os.path.getsize(os.path.join(folder, name)) for name in locations)
    ops = {}
    for node in model.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    y = y.detach().contiguous().numpy().astype("<f4")
    x.numpy().astype("<f4").tofile(os.path.join(folder, "input.bin"))
    y.tofile(os.path.join(folder, "output.bin"))
    finite = bool(np.isfinite(y).all())
    if not finite:
        raise RuntimeError("PyTorch's output holds NaN or infinity: the random network blew up")
    max_ref = float(np.abs(y).max())
    warning = None
    if not 1e-2 <= max_ref <= 1e4:
        # The tolerance is 1e-4 x max|ref| + 1e-5: a tiny output makes the absolute term the whole bound.
        warning = f"max|output| is {max_ref:.3g}, outside [1e-2, 1e4]: the random network's scale is off"
        log(f"{entry['name']}: {warning}")
    flat = y.reshape(batch, -1) if entry["task"] == "classification" else None
    # Per batch row, the gap between the two largest logits (a top-1 decided by less than the tolerance is a tie).
    top2_gap = None
    if flat is not None and flat.shape[1] > 1:
        part = np.sort(flat, axis=1)
        top2_gap = [float(g) for g in (part[:, -1] - part[:, -2])]
    meta = {
        "recipe": recipe_of(entry),
        "name": entry["name"],
        "task": entry["task"],
        "opset": opset,
        "batch": batch,
        "side": side,
        "seed": seed,
        "inputShape": list(x.shape),
        "outputShape": list(y.shape),
        "onnxNodes": len(model.graph.node),
        "onnxOps": dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))),
        "onnxBytes": os.path.getsize(os.path.join(folder, "model.onnx")),
        "externalFiles": len(locations),
        "externalBytes": external_bytes,
        "batchNorms": bn_count,
        "residualBatchNorms": residual_count,
        "maxAbsRef": max_ref,
        "torchF32Error": f32_error,
        "warning": warning,
        "top2Gap": top2_gap,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx": onnx.__version__,
    }
    if concat_gain is not None:
        meta["concatBranchGain"] = concat_gain
        meta["concatBranchBatchNorms"] = long_branch_count
    return meta


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", required=True, help="name@side,... (names from models.json)")
    parser.add_argument("--opset", type=int, default=13)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", default=os.path.join(HERE, "..", "..", "zoo-cache"))
    parser.add_argument("--table", default=os.path.join(HERE, "models.json"))
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--verbose", action="store_true", help="torch's warnings and the tracebacks of failed exports")
    args = parser.parse_args()
    if not 11 <= args.opset <= 17:
        parser.error("--opset must be within 11..17 (torch 1.13 exports up to 17)")
    if not args.verbose:
        # The tracer's warnings about Python values in forward() are expected for these models.
        warnings.simplefilter("ignore")
    table = load_table(args.table)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    for item in args.models.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, side_text = item.partition("@")
        started = time.time()
        report = {"name": name}
        try:
            entry = table.get(name)
            if entry is None:
                raise KeyError(f"{name} is not in {args.table}")
            side = int(side_text) if side_text else int(entry["side"])
            report["side"] = side
            folder = os.path.join(os.path.abspath(args.cache), folder_name(entry, args.opset, args.batch, side, args.seed))
            report["dir"] = folder
            meta_path = os.path.join(folder, "meta.json")
            if os.path.exists(meta_path):
                with open(meta_path) as f:
                    if json.load(f).get("recipe") == recipe_of(entry):
                        report["status"] = "cached"
                        report["seconds"] = round(time.time() - started, 3)
                        print(json.dumps(report), flush=True)
                        continue
                os.remove(meta_path)
            os.makedirs(folder, exist_ok=True)
            log(f"{name} at {side}x{side}, batch {args.batch}, opset {args.opset}")
            meta = export_one(entry, side, args.opset, args.batch, args.seed, folder)
            meta["exportSeconds"] = round(time.time() - started, 3)
            with open(meta_path + ".tmp", "w") as f:
                json.dump(meta, f, indent=1)
            os.replace(meta_path + ".tmp", meta_path)
            report["status"] = "exported"
        except Exception as e:  # noqa: BLE001 -- one model's failure is a row, not the end of the run
            if args.verbose:
                traceback.print_exc(file=sys.stderr)
            report["status"] = "error"
            # The first sentence: torch's export errors go on about filing issues and TorchScript values.
            text = " ".join(f"{type(e).__name__}: {e}".split())
            report["error"] = text.split(". Please")[0][:400]
            log(f"{name}: {report['error']}")
        report["seconds"] = round(time.time() - started, 3)
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
