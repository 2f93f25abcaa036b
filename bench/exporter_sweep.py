#!/usr/bin/env python3
"""Export a broad set of ONNX models the way real tools write them, for bench/exporter_sweep.sh.

    /usr/bin/python3 bench/exporter_sweep.py OUTDIR [--quick]

torch 1.13 `torch.onnx.export` at opsets 9, 11, 13, 17, static and with dynamic axes (batch; batch
and spatial), with and without constant folding; then onnx 1.12 tooling on some of them: fp16
conversion, external data, the version converter and shape inference written into the file.
torchvision is not installed here, so the nets are compact hand-written versions of its
architectures (same ops and export patterns, fewer channels). Nothing here is committed output:
the files go to OUTDIR. A net that an opset cannot express (Einsum before 12, ...) is skipped and
listed in OUTDIR/skipped.txt.
"""

import os
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper, version_converter
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test_models"))
import generate as tm  # noqa: E402  (the test models' nets: mobilenets, resnet, shufflenet, ...)

warnings.filterwarnings("ignore")


def cbr(cin, cout, k, s=1, g=1, act=nn.ReLU):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=g, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):  # resnet50
    def __init__(self, cin, mid, s):
        super().__init__()
        self.body = nn.Sequential(cbr(cin, mid, 1), cbr(mid, mid, 3, s), cbr(mid, mid * 4, 1, act=None))
        self.down = cbr(cin, mid * 4, 1, s, act=None) if s != 1 or cin != mid * 4 else nn.Identity()

    def forward(self, x):
        return F.relu(self.body(x) + self.down(x))


class ResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(cbr(3, 16, 7, 2), nn.MaxPool2d(3, 2, 1))
        self.layers = nn.Sequential(Bottleneck(16, 8, 1), Bottleneck(32, 16, 2), Bottleneck(64, 16, 1))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class MBConv(nn.Module):  # efficientnet: SiLU, squeeze-excite with SiLU and Sigmoid
    def __init__(self, cin, cout, e, s):
        super().__init__()
        mid = cin * e
        self.expand = cbr(cin, mid, 1, act=nn.SiLU)
        self.dw = cbr(mid, mid, 3, s, g=mid, act=nn.SiLU)
        self.se1, self.se2 = nn.Conv2d(mid, max(1, cin // 4), 1), nn.Conv2d(max(1, cin // 4), mid, 1)
        self.project = cbr(mid, cout, 1, act=None)
        self.res = s == 1 and cin == cout

    def forward(self, x):
        y = self.dw(self.expand(x))
        w = torch.sigmoid(self.se2(F.silu(self.se1(F.adaptive_avg_pool2d(y, 1)))))
        y = self.project(y * w)
        return x + y if self.res else y


class EfficientNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = cbr(3, 16, 3, 2, act=nn.SiLU)
        self.blocks = nn.Sequential(MBConv(16, 24, 4, 2), MBConv(24, 24, 4, 1), MBConv(24, 40, 6, 2))
        self.head = cbr(40, 64, 1, act=nn.SiLU)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class RegNetBlock(nn.Module):  # regnet-y: group conv + SE
    def __init__(self, cin, cout, s, gw=8):
        super().__init__()
        self.a = cbr(cin, cout, 1)
        self.b = cbr(cout, cout, 3, s, g=cout // gw)
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cout, cin // 4, 1), nn.ReLU(),
                                nn.Conv2d(cin // 4, cout, 1), nn.Sigmoid())
        self.c = cbr(cout, cout, 1, act=None)
        self.proj = cbr(cin, cout, 1, s, act=None)

    def forward(self, x):
        y = self.b(self.a(x))
        return F.relu(self.proj(x) + self.c(y * self.se(y)))


class RegNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = cbr(3, 16, 3, 2)
        self.trunk = nn.Sequential(RegNetBlock(16, 32, 2), RegNetBlock(32, 48, 2))
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        return self.fc(nn.AdaptiveAvgPool2d((1, 1))(self.trunk(self.stem(x))).flatten(1))


class Inception(nn.Module):  # googlenet / inception-v3 style branches, ceil-mode pools
    def __init__(self, cin):
        super().__init__()
        self.b1 = cbr(cin, 8, 1)
        self.b2 = nn.Sequential(cbr(cin, 8, 1), cbr(8, 12, 3))
        self.b3 = nn.Sequential(cbr(cin, 4, 1), nn.Conv2d(4, 8, (1, 5), padding=(0, 2)),
                                nn.Conv2d(8, 8, (5, 1), padding=(2, 0)))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), cbr(cin, 8, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class GoogLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(cbr(3, 16, 7, 2), nn.MaxPool2d(3, 2, ceil_mode=True))
        self.inc = nn.Sequential(Inception(16), nn.AvgPool2d(3, 2, 1, count_include_pad=False), Inception(36))
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(36, 10)

    def forward(self, x):
        x = self.inc(self.stem(x))
        return self.fc(self.drop(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)))


class LayerNorm2d(nn.Module):  # convnext's channels-first LayerNorm: permute, LayerNorm, permute
    def __init__(self, c):
        super().__init__()
        self.ln = nn.LayerNorm(c, eps=1e-6)

    def forward(self, x):
        return self.ln(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.ln = nn.LayerNorm(c, eps=1e-6)
        self.pw1, self.pw2 = nn.Linear(c, 4 * c), nn.Linear(4 * c, c)
        self.gamma = nn.Parameter(torch.full((c,), 0.1))

    def forward(self, x):
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.pw2(F.gelu(self.pw1(self.ln(y)))) * self.gamma
        return x + y.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 4, 4), LayerNorm2d(16))
        self.s1 = ConvNeXtBlock(16)
        self.down = nn.Sequential(LayerNorm2d(16), nn.Conv2d(16, 32, 2, 2))
        self.s2 = ConvNeXtBlock(32)
        self.norm, self.fc = nn.LayerNorm(32), nn.Linear(32, 10)

    def forward(self, x):
        x = self.s2(self.down(self.s1(self.stem(x))))
        return self.fc(self.norm(x.mean([-2, -1])))


class ViT(nn.Module):  # patch embedding, class token, nn.MultiheadAttention, GELU MLP
    def __init__(self, d=32, heads=4, patch=8, hw=32):
        super().__init__()
        self.patch = nn.Conv2d(3, d, patch, patch)
        self.cls = nn.Parameter(torch.randn(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, (hw // patch) ** 2 + 1, d))
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads)  # sequence-first: the fused path no opset exports is batch-first only
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.head = nn.Linear(d, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        y = self.ln1(x).transpose(0, 1)
        x = x + self.attn(y, y, y, need_weights=False)[0].transpose(0, 1)
        x = x + self.mlp(self.ln2(x))
        return self.head(self.ln3(x)[:, 0])


class SelfAttention(nn.Module):  # hand-written attention: MatMul, Softmax, LayerNorm, Einsum
    def __init__(self, d=32, heads=4, einsum=False):
        super().__init__()
        self.h, self.einsum = heads, einsum
        self.qkv, self.out, self.ln = nn.Linear(d, 3 * d), nn.Linear(d, d), nn.LayerNorm(d)

    def forward(self, x):  # x: (B, T, D)
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln(x)).reshape(b, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        if self.einsum:
            a = torch.einsum("bhqd,bhkd->bhqk", q, k) / (d // self.h) ** 0.5
            y = torch.einsum("bhqk,bhkd->bhqd", a.softmax(-1), v)
        else:
            a = (q @ k.transpose(-2, -1)) * (d // self.h) ** -0.5
            y = a.softmax(dim=-1) @ v
        return x + self.out(y.transpose(1, 2).reshape(b, t, d))


class AttnNet(nn.Module):
    def __init__(self, einsum=False):
        super().__init__()
        self.embed = nn.Conv2d(3, 32, 4, 4)
        self.blocks = nn.Sequential(SelfAttention(einsum=einsum), SelfAttention(einsum=einsum))
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.blocks(self.embed(x).flatten(2).transpose(1, 2))
        return self.fc(x.mean(1))


class SwinLike(nn.Module):  # window partition: reshape/permute chains around attention
    def __init__(self, d=32, w=4):
        super().__init__()
        self.w = w
        self.embed = nn.Conv2d(3, d, 4, 4)
        self.attn = SelfAttention(d)
        self.fc = nn.Linear(d, 10)

    def forward(self, x):
        x = self.embed(x)
        b, c, h, w = x.shape
        x = x.permute(0, 2, 3, 1).reshape(b, h // self.w, self.w, w // self.w, self.w, c)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(-1, self.w * self.w, c)
        x = self.attn(x)
        x = x.reshape(b, h // self.w, w // self.w, self.w, self.w, c).permute(0, 1, 3, 2, 4, 5)
        x = torch.roll(x.reshape(b, h, w, c), shifts=(1, 1), dims=(1, 2))
        return self.fc(x.mean((1, 2)))


class RNN(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(16, 32, num_layers=2, batch_first=True)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):  # x: (B, 1, T, 16) so that every net takes a 4-D input
        y, _ = self.rnn(x.squeeze(1))
        return self.fc(y[:, -1])


class UNet(nn.Module):  # segmentation: ConvTranspose, Resize (bilinear and nearest), Pad, Concat
    def __init__(self):
        super().__init__()
        self.e1, self.e2, self.e3 = cbr(3, 16, 3), cbr(16, 32, 3, 2), cbr(32, 64, 3, 2)
        self.up1 = nn.ConvTranspose2d(64, 32, 2, 2)
        self.d1 = cbr(64, 32, 3)
        self.d2 = cbr(48, 16, 3)
        self.pad = nn.ReflectionPad2d(1)
        self.cls = nn.Conv2d(16, 5, 3)

    def forward(self, x):
        a = self.e1(x)
        b = self.e2(a)
        c = self.e3(b)
        y = self.d1(torch.cat([self.up1(c), b], 1))
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        y = self.d2(torch.cat([y, a], 1))
        y = self.cls(self.pad(y))
        return F.interpolate(y, size=x.shape[-2:], mode="nearest")


class FPN(nn.Module):  # detection backbone neck: nearest upsample + add, constant pad, slicing
    def __init__(self):
        super().__init__()
        self.c2, self.c3, self.c4 = cbr(3, 16, 3, 2), cbr(16, 32, 3, 2), cbr(32, 64, 3, 2)
        self.l2, self.l3, self.l4 = nn.Conv2d(16, 24, 1), nn.Conv2d(32, 24, 1), nn.Conv2d(64, 24, 1)
        self.out = nn.Conv2d(24, 24, 3, padding=1)
        self.head = nn.Conv2d(24, 6, 1)

    def forward(self, x):
        x = F.pad(x, (0, 1, 0, 1))[:, :, :-1, :-1]
        c2 = self.c2(x)
        c3 = self.c3(c2)
        c4 = self.c4(c3)
        p4 = self.l4(c4)
        p3 = self.l3(c3) + F.interpolate(p4, scale_factor=2, mode="nearest")
        p2 = self.l2(c2) + F.interpolate(p3, size=c2.shape[-2:], mode="nearest")
        y = self.head(self.out(p2))
        return y[:, :4], torch.sigmoid(y[:, 4:])


class Chains(nn.Module):  # Slice / Gather / Reshape / Flatten / Split / Squeeze chains
    def __init__(self):
        super().__init__()
        self.conv = cbr(3, 16, 3, 2)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 4, 10)

    def forward(self, x):
        x = self.conv(x)
        a, b = x.chunk(2, dim=1)
        x = torch.cat([self.conv2(a), b[:, :, ::2, ::2].repeat(1, 1, 2, 2)[:, :, : a.shape[2], : a.shape[3]]], 1)
        x = x.reshape(x.shape[0], x.shape[1], -1)[:, :, :4].unsqueeze(-1)
        x = x[:, torch.tensor([0, 2, 4, 6, 8, 10, 12, 14])].squeeze(-1)
        return self.fc(torch.flatten(x, 1))


# name -> (factory, input shape, minimum opset, dynamic spatial axes possible)
NETS = {
    "resnet18": (lambda: tm.ResNetBasic(), (1, 3, 64, 64), 9, True),
    "resnet50": (ResNet50, (1, 3, 64, 64), 9, True),
    "mobilenetv1": (lambda: tm.MobileNetV1(), (1, 3, 64, 64), 9, True),
    "mobilenetv2": (lambda: tm.MobileNetV2(), (1, 3, 64, 64), 9, True),
    "mobilenetv3": (lambda: tm.MobileNetV3Small(), (1, 3, 64, 64), 9, True),
    "efficientnet": (EfficientNet, (1, 3, 64, 64), 9, True),
    "regnet": (RegNet, (1, 3, 64, 64), 9, True),
    "shufflenet": (lambda: tm.ShuffleNet(), (1, 3, 64, 64), 9, True),
    "squeezenet": (lambda: tm.SqueezeNet(), (1, 3, 64, 64), 9, True),
    "densenet": (lambda: tm.DenseNet(), (1, 3, 64, 64), 9, True),
    "googlenet": (GoogLeNet, (1, 3, 64, 64), 9, True),
    "convnext": (ConvNeXt, (1, 3, 64, 64), 9, True),
    "vit": (ViT, (1, 3, 32, 32), 9, False),
    "attention": (lambda: AttnNet(False), (1, 3, 32, 32), 9, True),
    "einsum": (lambda: AttnNet(True), (1, 3, 32, 32), 12, True),
    "swin": (SwinLike, (1, 3, 32, 32), 9, False),
    "lstm": (lambda: RNN("lstm"), (1, 1, 12, 16), 9, False),
    "gru": (lambda: RNN("gru"), (1, 1, 12, 16), 9, False),
    "unet": (UNet, (1, 3, 64, 64), 9, True),
    "fpn": (FPN, (1, 3, 64, 64), 11, True),
    "chains": (Chains, (1, 3, 32, 32), 9, False),
}


def make(name, seed):
    torch.manual_seed(seed)
    model = NETS[name][0]()
    tm.randomize_bn(model, seed + 1)
    return model.eval()


def export(model, shape, path, opset, dynamic, folding):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(7))
    axes = None
    if dynamic == "batch":
        axes = {"input": {0: "batch"}}
    elif dynamic == "spatial":
        axes = {"input": {0: "batch", 2: "height", 3: "width"}}
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, opset_version=opset, input_names=["input"],
                          dynamic_axes=axes, do_constant_folding=folding,
                          training=torch.onnx.TrainingMode.EVAL)


def to_fp16(src, dst):
    """What onnxconverter-common's float16 conversion does, enough for these graphs."""
    m = onnx.load(src)
    g = m.graph
    # Resize's and Upsample's scales stay fp32, as the converter's op block list keeps them.
    keep = {i for n in g.node if n.op_type in ("Resize", "Upsample") for i in n.input[1:]}

    def conv_tensor(t, name):
        if t.data_type == TensorProto.FLOAT and name not in keep:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name))

    for t in g.initializer:
        conv_tensor(t, t.name)
    for n in g.node:
        for a in n.attribute:
            if a.name == "value" and a.t is not None:
                conv_tensor(a.t, n.output[0])
            if n.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.FLOAT16
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT and vi.name not in keep:
            vi.type.tensor_type.elem_type = TensorProto.FLOAT16
    onnx.save(m, dst)


def main():
    out = sys.argv[1]
    quick = "--quick" in sys.argv
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else list(NETS)
    os.makedirs(out, exist_ok=True)
    skipped = []
    opsets = [9, 11, 13, 17] if not quick else [13]
    for i, name in enumerate(NETS):
        if name not in only:
            continue
        _, shape, min_opset, spatial = NETS[name]
        model = make(name, 1000 + i)
        variants = [(o, d, True) for o in opsets for d in ("static", "batch", "spatial")]
        variants += [(o, "static", False) for o in opsets]
        for opset, dyn, folding in variants:
            if opset < min_opset or (dyn == "spatial" and not spatial):
                continue
            tag = "%s_op%d_%s%s" % (name, opset, dyn, "" if folding else "_nofold")
            path = os.path.join(out, tag + ".onnx")
            try:
                export(model, shape, path, opset, dyn, folding)
            except Exception as e:  # an exporter limit, not ours: note it
                skipped.append("%s: %s" % (tag, str(e).splitlines()[0][:200]))
                continue
        base = os.path.join(out, "%s_op13_static.onnx" % name)
        if not os.path.exists(base):
            continue
        to_fp16(base, os.path.join(out, "%s_op13_fp16.onnx" % name))
        m = onnx.load(base)
        onnx.save(m, os.path.join(out, "%s_op13_extdata.onnx" % name), save_as_external_data=True,
                  all_tensors_to_one_file=True, location="%s_op13_extdata.onnx.data" % name,
                  size_threshold=0)
        onnx.save(onnx.shape_inference.infer_shapes(m), os.path.join(out, "%s_op13_inferred.onnx" % name))
        for src, target in ((11, 13), (13, 15)):  # onnx 1.12 has no adapters down from 13 for Relu
            tag = "%s_op%d_to%d" % (name, src, target)
            try:
                m = onnx.load(os.path.join(out, "%s_op%d_static.onnx" % (name, src)))
                onnx.save(version_converter.convert_version(m, target), os.path.join(out, tag + ".onnx"))
            except Exception as e:
                skipped.append("%s: %s" % (tag, str(e).splitlines()[0][:200]))
        print(name, flush=True)
    with open(os.path.join(out, "skipped.txt"), "w") as f:
        f.write("\n".join(skipped) + "\n")
    print("%d files, %d skipped" % (len([p for p in os.listdir(out) if p.endswith(".onnx")]), len(skipped)))


if __name__ == "__main__":
    main()
