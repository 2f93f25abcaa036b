#!/usr/bin/env python3
"""Generate the small, real ONNX test models used by deepen's C++ tests.

Run from the repository root with Debian's Python (torch 1.13, onnx 1.12):

    /usr/bin/python3 test_models/generate.py

Everything is deterministic: every model is built after torch.manual_seed(),
BatchNorm layers get random (seeded) affine parameters and running stats so
that the exporter's Conv+BN folding produces non-trivial weights, and the
hand-written graphs (tf_style_nhwc, mlp_opset7 fallback) use a seeded numpy
generator.  All torch models are exported in eval mode with the exporter's
default do_constant_folding=True.

After writing the files, run test_models/describe.py to regenerate README.md
numbers (op histograms, node shapes, parameter and MAC counts).
"""

import os
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240601

warnings.filterwarnings("ignore")


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

def randomize_bn(model, seed):
    """Give every BatchNorm random affine params and running statistics."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            with torch.no_grad():
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.2 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))


def conv_bn(cin, cout, k, s=1, p=None, groups=1, act="relu"):
    if p is None:
        p = k // 2
    layers = [nn.Conv2d(cin, cout, k, s, p, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if act == "relu":
        layers.append(nn.ReLU(inplace=True))
    elif act == "relu6":
        layers.append(nn.ReLU6(inplace=True))
    elif act == "hswish":
        layers.append(nn.Hardswish())
    elif act is None:
        pass
    else:
        raise ValueError(act)
    return nn.Sequential(*layers)


def check(path):
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    return m


def export_torch(model, name, opset, input_shape, dynamic_batch=False, seed=0):
    randomize_bn(model, seed + 1)
    model.eval()
    x = torch.randn(*input_shape, generator=torch.Generator().manual_seed(seed + 2))
    path = os.path.join(HERE, name)
    kwargs = {}
    if dynamic_batch:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(model, (x,), path,
                          opset_version=opset,
                          input_names=["input"], output_names=["output"],
                          training=torch.onnx.TrainingMode.EVAL,
                          **kwargs)
    check(path)
    return path


# ----------------------------------------------------------------------------
# 1. MobileNetV1 (reduced width), opset 11
# ----------------------------------------------------------------------------

class MobileNetV1(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        cfg = [(8, 16, 1), (16, 32, 2), (32, 32, 1), (32, 64, 2), (64, 64, 1),
               (64, 128, 2)]
        layers = [conv_bn(3, 8, 3, 2)]
        for cin, cout, s in cfg:
            layers.append(nn.Sequential(
                conv_bn(cin, cin, 3, s, groups=cin),   # depthwise 3x3
                conv_bn(cin, cout, 1, 1),              # pointwise 1x1
            ))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = self.pool(x)
        x = x.view(x.size(0), -1)   # classic torchvision-style flatten
        return self.fc(x)


# ----------------------------------------------------------------------------
# 2. MobileNetV2 (reduced width), opset 13, dynamic batch
# ----------------------------------------------------------------------------

class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers.append(conv_bn(cin, hidden, 1, act="relu6"))
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden, act="relu6"),
                   conv_bn(hidden, cout, 1, act=None)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        cfg = [(1, 8, 1, 1), (6, 12, 2, 2), (6, 16, 2, 2), (6, 24, 2, 2)]
        layers = [conv_bn(3, 16, 3, 2, act="relu6")]
        cin = 16
        for t, c, n, s in cfg:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(conv_bn(cin, 64, 1, act="relu6"))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1)
        x = torch.flatten(x, 1)
        return self.classifier(x)


# ----------------------------------------------------------------------------
# 3. ResNet basic blocks, opset 12, dynamic batch
# ----------------------------------------------------------------------------

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNetBasic(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = BasicBlock(16, 16, 1)
        self.layer2 = BasicBlock(16, 32, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


# ----------------------------------------------------------------------------
# 4. SqueezeNet fire modules, opset 9
# ----------------------------------------------------------------------------

class Fire(nn.Module):
    def __init__(self, cin, squeeze, e1, e3):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.squeeze_act = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
        self.expand1x1_act = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)
        self.expand3x3_act = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_act(self.squeeze(x))
        return torch.cat([self.expand1x1_act(self.expand1x1(x)),
                          self.expand3x3_act(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        # ceil_mode=False: MaxPool ceil_mode only exists from opset 10 on.
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            Fire(16, 4, 8, 8),
            Fire(16, 4, 8, 8),
            nn.MaxPool2d(3, 2),
            Fire(16, 8, 16, 16),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Conv2d(32, num_classes, 1), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


# ----------------------------------------------------------------------------
# 5. ShuffleNet (V2 units + one V1 grouped-conv unit), opset 11
# ----------------------------------------------------------------------------

def channel_shuffle(x, groups):
    b, c, h, w = x.size()
    x = x.view(b, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(b, -1, h, w)


class ShuffleV2Unit(nn.Module):
    """ShuffleNetV2 unit.  For stride 1 the channel split is done either with
    x.chunk(2) (torchvision style; torch 1.13 exports it at opset 11 as a
    Shape/Gather/Add/Div/Mul -> Slice chain) or with torch.split(x, [c/2, c/2])
    using Python ints (exports as a single Split node)."""

    def __init__(self, cin, cout, stride, split_mode="chunk"):
        super().__init__()
        self.stride = stride
        self.split_mode = split_mode
        bf = cout // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                conv_bn(cin, cin, 3, stride, groups=cin, act=None),
                conv_bn(cin, bf, 1))
            b2_in = cin
        else:
            self.branch1 = None
            b2_in = bf
        self.branch2 = nn.Sequential(
            conv_bn(b2_in, bf, 1),
            conv_bn(bf, bf, 3, stride, groups=bf, act=None),
            conv_bn(bf, bf, 1))

    def forward(self, x):
        if self.stride == 1:
            if self.split_mode == "chunk":
                x1, x2 = x.chunk(2, dim=1)
            else:
                half = int(x.shape[1]) // 2
                x1, x2 = torch.split(x, [half, half], dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleV1Unit(nn.Module):
    """ShuffleNetV1 stride-1 unit: grouped 1x1 (g=4), shuffle, dw3x3, grouped 1x1, add."""

    def __init__(self, c, groups=4):
        super().__init__()
        mid = c // 2
        self.groups = groups
        self.gconv1 = conv_bn(c, mid, 1, groups=groups)
        self.dw = conv_bn(mid, mid, 3, 1, groups=mid, act=None)
        self.gconv2 = conv_bn(mid, c, 1, groups=groups, act=None)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.gconv1(x)
        out = channel_shuffle(out, self.groups)
        out = self.gconv2(self.dw(out))
        return self.relu(x + out)


class ShuffleNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = conv_bn(3, 24, 3, 2)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.stage2 = nn.Sequential(ShuffleV2Unit(24, 48, 2),
                                    ShuffleV2Unit(48, 48, 1, "chunk"),
                                    ShuffleV2Unit(48, 48, 1, "split"))
        self.v1unit = ShuffleV1Unit(48, groups=4)
        self.gconv3x3 = conv_bn(48, 64, 3, 2, groups=4)   # grouped 3x3, g=4
        self.conv5 = conv_bn(64, 128, 1)
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.stage2(x)
        x = self.v1unit(x)
        x = self.conv5(self.gconv3x3(x))
        x = x.mean([2, 3])                                  # ReduceMean
        return self.fc(x)


# ----------------------------------------------------------------------------
# 6. DenseNet dense block + transition, opset 13
# ----------------------------------------------------------------------------

class DenseLayer(nn.Module):
    def __init__(self, cin, growth, bn_size=4):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, features):
        x = torch.cat(features, 1)
        x = self.conv1(self.relu1(self.norm1(x)))
        return self.conv2(self.relu2(self.norm2(x)))


class DenseBlock(nn.Module):
    def __init__(self, n, cin, growth):
        super().__init__()
        self.layers = nn.ModuleList(
            [DenseLayer(cin + i * growth, growth) for i in range(n)])

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.pool = nn.AvgPool2d(2, 2)

    def forward(self, x):
        return self.pool(self.conv(self.relu(self.norm(x))))


class DenseNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv0 = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.norm0 = nn.BatchNorm2d(16)
        self.relu0 = nn.ReLU(inplace=True)
        self.pool0 = nn.MaxPool2d(3, 2, 1)
        self.block1 = DenseBlock(4, 16, 8)          # 16 -> 48 channels
        self.trans1 = Transition(48, 24)
        self.block2 = DenseBlock(3, 24, 8)          # 24 -> 48 channels
        self.norm5 = nn.BatchNorm2d(48)
        self.fc = nn.Linear(48, num_classes)

    def forward(self, x):
        x = self.pool0(self.relu0(self.norm0(self.conv0(x))))
        x = self.trans1(self.block1(x))
        x = F.relu(self.norm5(self.block2(x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


# ----------------------------------------------------------------------------
# 7. MobileNetV3-small style, opset 13 and opset 14
# ----------------------------------------------------------------------------

class SqueezeExcite(nn.Module):
    def __init__(self, c, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.scale_act = nn.Hardsigmoid()

    def forward(self, x):
        s = self.scale_act(self.fc2(self.relu(self.fc1(self.avgpool(x)))))
        return s * x


class V3Block(nn.Module):
    def __init__(self, cin, k, exp, cout, se, act, stride):
        super().__init__()
        self.use_res = stride == 1 and cin == cout
        layers = []
        if exp != cin:
            layers.append(conv_bn(cin, exp, 1, act=act))
        layers.append(conv_bn(exp, exp, k, stride, groups=exp, act=act))
        if se:
            layers.append(SqueezeExcite(exp, max(8, exp // 4)))
        layers.append(conv_bn(exp, cout, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        out = self.block(x)
        return x + out if self.use_res else out


class MobileNetV3Small(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(3, 16, 3, 2, act="hswish"),
            V3Block(16, 3, 16, 16, True, "relu", 2),
            V3Block(16, 3, 48, 24, False, "relu", 2),
            V3Block(24, 5, 72, 24, True, "hswish", 1),
            conv_bn(24, 96, 1, act="hswish"),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(96, 128), nn.Hardswish(), nn.Dropout(0.2),
            nn.Linear(128, num_classes))

    def forward(self, x):
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return torch.softmax(self.classifier(x), dim=1)


# ----------------------------------------------------------------------------
# 8. tf2onnx-style NHWC graph written with onnx.helper, opset 13
# ----------------------------------------------------------------------------

def make_tf_style(path):
    rng = np.random.default_rng(SEED + 8)

    def w(*shape):
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    pre = "StatefulPartitionedCall/model/"
    inits = [
        numpy_helper.from_array(w(16, 3, 3, 3), pre + "conv2d/Conv2D_weights_fused_bn"),
        numpy_helper.from_array(w(16), pre + "conv2d/Conv2D_bias_fused_bn"),
        numpy_helper.from_array(w(16, 1, 3, 3), pre + "depthwise_conv2d/depthwise_weights_fused_bn"),
        numpy_helper.from_array(w(16), pre + "depthwise_conv2d/depthwise_bias_fused_bn"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), pre + "re_lu/Relu6__min"),
        numpy_helper.from_array(np.array(6.0, dtype=np.float32), pre + "re_lu/Relu6__max"),
        numpy_helper.from_array(w(16, 10), pre + "dense/MatMul/ReadVariableOp:0"),
        numpy_helper.from_array(w(10), pre + "dense/BiasAdd/ReadVariableOp:0"),
    ]
    nodes = [
        helper.make_node("Transpose", ["input_1"], [pre + "conv2d/Conv2D__6:0"],
                         name=pre + "conv2d/Conv2D__6", perm=[0, 3, 1, 2]),
        # tf2onnx often leaves an Identity between a variable read and its use.
        helper.make_node("Identity", [pre + "conv2d/Conv2D_weights_fused_bn"],
                         [pre + "conv2d/Conv2D/ReadVariableOp:0"],
                         name=pre + "conv2d/Conv2D/ReadVariableOp"),
        helper.make_node("Conv", [pre + "conv2d/Conv2D__6:0",
                                  pre + "conv2d/Conv2D/ReadVariableOp:0",
                                  pre + "conv2d/Conv2D_bias_fused_bn"],
                         [pre + "conv2d/BiasAdd:0"], name=pre + "conv2d/BiasAdd",
                         dilations=[1, 1], group=1, kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", [pre + "conv2d/BiasAdd:0"], [pre + "conv2d/Relu:0"],
                         name=pre + "conv2d/Relu"),
        # TF "SAME" padding with stride 2 on an even size -> asymmetric pads.
        helper.make_node("Conv", [pre + "conv2d/Relu:0",
                                  pre + "depthwise_conv2d/depthwise_weights_fused_bn",
                                  pre + "depthwise_conv2d/depthwise_bias_fused_bn"],
                         [pre + "depthwise_conv2d/BiasAdd:0"],
                         name=pre + "depthwise_conv2d/depthwise",
                         dilations=[1, 1], group=16, kernel_shape=[3, 3],
                         pads=[0, 0, 1, 1], strides=[2, 2]),
        helper.make_node("Clip", [pre + "depthwise_conv2d/BiasAdd:0",
                                  pre + "re_lu/Relu6__min", pre + "re_lu/Relu6__max"],
                         [pre + "re_lu/Relu6:0"], name=pre + "re_lu/Relu6"),
        helper.make_node("GlobalAveragePool", [pre + "re_lu/Relu6:0"],
                         [pre + "global_average_pooling2d/Mean:0"],
                         name=pre + "global_average_pooling2d/Mean"),
        helper.make_node("Constant", [], [pre + "global_average_pooling2d/Mean_Squeeze__12_shape:0"],
                         name=pre + "global_average_pooling2d/Mean_Squeeze__12_shape",
                         value=numpy_helper.from_array(np.array([-1, 16], dtype=np.int64))),
        helper.make_node("Reshape", [pre + "global_average_pooling2d/Mean:0",
                                     pre + "global_average_pooling2d/Mean_Squeeze__12_shape:0"],
                         [pre + "global_average_pooling2d/Mean_Squeeze__12:0"],
                         name=pre + "global_average_pooling2d/Mean_Squeeze__12"),
        helper.make_node("MatMul", [pre + "global_average_pooling2d/Mean_Squeeze__12:0",
                                    pre + "dense/MatMul/ReadVariableOp:0"],
                         [pre + "dense/MatMul:0"], name=pre + "dense/MatMul"),
        helper.make_node("Add", [pre + "dense/MatMul:0", pre + "dense/BiasAdd/ReadVariableOp:0"],
                         [pre + "dense/BiasAdd:0"], name=pre + "dense/BiasAdd"),
        helper.make_node("Softmax", [pre + "dense/BiasAdd:0"], ["dense"],
                         name=pre + "dense/Softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "tf2onnx",
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["unk__1", 64, 64, 3])],
        [helper.make_tensor_value_info("dense", TensorProto.FLOAT, ["unk__1", 10])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="tf2onnx", producer_version="1.9.3",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, path)
    check(path)


# ----------------------------------------------------------------------------
# 9. Tiny MLP at opset 7
# ----------------------------------------------------------------------------

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8 * 8, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def make_mlp_helper(path):
    """Fallback if torch cannot export opset 7."""
    rng = np.random.default_rng(SEED + 9)
    w1 = (rng.standard_normal((32, 64)) * 0.1).astype(np.float32)
    b1 = (rng.standard_normal(32) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((10, 32)) * 0.1).astype(np.float32)
    b2 = (rng.standard_normal(10) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], name="Flatten_0", axis=1),
        helper.make_node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["h"], name="Gemm_1",
                         alpha=1.0, beta=1.0, transB=1),
        helper.make_node("Relu", ["h"], ["hr"], name="Relu_2"),
        helper.make_node("Gemm", ["hr", "fc2.weight", "fc2.bias"], ["output"], name="Gemm_3",
                         alpha=1.0, beta=1.0, transB=1),
    ]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        initializer=[numpy_helper.from_array(w1, "fc1.weight"),
                     numpy_helper.from_array(b1, "fc1.bias"),
                     numpy_helper.from_array(w2, "fc2.weight"),
                     numpy_helper.from_array(b2, "fc2.bias")])
    model = helper.make_model(graph, producer_name="deepen-test",
                              opset_imports=[helper.make_opsetid("", 7)])
    model.ir_version = 3
    onnx.save(model, path)
    check(path)


# ----------------------------------------------------------------------------

def main():
    jobs = [
        ("mobilenetv1.onnx", MobileNetV1, 11, (1, 3, 64, 64), False),
        ("mobilenetv2.onnx", MobileNetV2, 13, (1, 3, 64, 64), True),
        ("resnet_basic.onnx", ResNetBasic, 12, (1, 3, 64, 64), True),
        ("squeezenet_fire.onnx", SqueezeNet, 9, (1, 3, 64, 64), False),
        ("shufflenet.onnx", ShuffleNet, 11, (1, 3, 64, 64), False),
        ("densenet.onnx", DenseNet, 13, (1, 3, 64, 64), False),
        ("mobilenetv3.onnx", MobileNetV3Small, 13, (1, 3, 64, 64), False),
        ("mobilenetv3_opset14.onnx", MobileNetV3Small, 14, (1, 3, 64, 64), False),
    ]
    for i, (name, cls, opset, shape, dyn) in enumerate(jobs):
        # mobilenetv3 and mobilenetv3_opset14 share the seed -> identical weights.
        seed = SEED + (6 if name.startswith("mobilenetv3") else i)
        torch.manual_seed(seed)
        model = cls()
        export_torch(model, name, opset, shape, dynamic_batch=dyn, seed=seed)
        print("wrote", name)

    make_tf_style(os.path.join(HERE, "tf_style_nhwc.onnx"))
    print("wrote tf_style_nhwc.onnx")

    mlp_path = os.path.join(HERE, "mlp_opset7.onnx")
    try:
        torch.manual_seed(SEED + 9)
        export_torch(MLP(), "mlp_opset7.onnx", 7, (1, 1, 8, 8), seed=SEED + 9)
        print("wrote mlp_opset7.onnx (torch.onnx.export)")
    except Exception as e:  # pragma: no cover - depends on torch version
        print("torch could not export opset 7 (%s); using onnx.helper" % e, file=sys.stderr)
        make_mlp_helper(mlp_path)
        print("wrote mlp_opset7.onnx (onnx.helper)")


if __name__ == "__main__":
    main()
