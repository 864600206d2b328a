#!/usr/bin/python3
"""PyTorch's side of test/segment-torchvision.test.ts (run with Debian's /usr/bin/python3: torch, torchvision, onnx).

    segment_oracle.py export NAME SIDE DIR
        builds torchvision's NAME (random weights, BatchNorm statistics randomised as `npm run zoo` does, the `out`
        head only; scripts/zoo/export.py), saves it to DIR/net.pt and exports DIR/model.onnx, input [1, 3, SIDE, SIDE]
    segment_oracle.py run DIR WIDTH HEIGHT
        runs DIR/net.pt on DIR/input.bin (the network input webcnn's preprocessing made, float32 NCHW), upsamples its
        output to HEIGHT x WIDTH with interpolate(mode='bilinear', align_corners=False) as torchvision's
        segmentation models do to the input size, and writes DIR/scores.bin (the output, float32), DIR/mask.bin (the
        arg max of the upsampled scores, int32) and DIR/margin.bin (its top-1 minus top-2 score, float32)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "zoo"))


def export(name, side, folder):
    import torch

    import export as zoo

    entry = zoo.load_table(os.path.join(HERE, "..", "..", "scripts", "zoo", "models.json"))[name]
    torch.manual_seed(0)
    net = zoo.build(entry)
    zoo.randomise_batch_norms(net, side, 0)
    net.eval()
    torch.save(net.state_dict(), os.path.join(folder, "net.pt"))
    x = torch.zeros((1, 3, side, side))
    torch.onnx.export(net, x, os.path.join(folder, "model.onnx"), input_names=["input"], output_names=["output"],
                      opset_version=13, do_constant_folding=True)
    with open(os.path.join(folder, "net.json"), "w") as f:
        json.dump({"name": name, "side": side}, f)


def run(folder, width, height):
    import numpy as np
    import torch
    import torch.nn.functional as F

    import export as zoo

    with open(os.path.join(folder, "net.json")) as f:
        meta = json.load(f)
    entry = zoo.load_table(os.path.join(HERE, "..", "..", "scripts", "zoo", "models.json"))[meta["name"]]
    net = zoo.build(entry)
    net.load_state_dict(torch.load(os.path.join(folder, "net.pt")))
    net.eval()
    side = meta["side"]
    x = torch.from_numpy(np.fromfile(os.path.join(folder, "input.bin"), dtype=np.float32).reshape(1, 3, side, side))
    with torch.no_grad():
        y = net(x)
        up = F.interpolate(y, size=(height, width), mode="bilinear", align_corners=False)
        top2 = up.topk(2, dim=1).values
    y.numpy().astype(np.float32).tofile(os.path.join(folder, "scores.bin"))
    up.argmax(dim=1).numpy().astype(np.int32).tofile(os.path.join(folder, "mask.bin"))
    (top2[:, 0] - top2[:, 1]).numpy().astype(np.float32).tofile(os.path.join(folder, "margin.bin"))


if __name__ == "__main__":
    if sys.argv[1] == "export":
        export(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
