"""inception.diagrams: flowcharts traced from the code, labels derived from module types (issue 11, item 5)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import torch
from mermaid.flowchart import FlowChart
from torch import nn

import inception
from inception import batchnorm, bn_experiment, bn_inception, customizing, googlenet, inception_v2, layers
from inception.bn_inception import BNInception, BNInceptionModule, BNInceptionReduction
from inception.customizing import InceptionV2Config, build_inception_v2
from inception.diagrams import describe, flowchart, mermaid_source, show
from inception.googlenet import GoogLeNet, Inception, InceptionAux
from inception.inception_v2 import (
    GridReduction,
    InceptionAuxV2,
    InceptionFig5,
    InceptionFig6,
    InceptionFig7,
    InceptionV2,
)
from inception.layers import BasicConv2d

pytestmark = pytest.mark.usefixtures("one_thread")

SOURCES = sorted(Path(inception.__file__).parent.rglob("*.py"))
BLOCKS = (Inception, InceptionAux, BNInceptionModule, BNInceptionReduction, InceptionFig5, InceptionFig6,
          InceptionFig7, GridReduction, InceptionAuxV2, BasicConv2d)


class TwoBranches(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch1 = BasicConv2d(8, 4, 1)
        self.branch2 = nn.Sequential(BasicConv2d(8, 4, 1), BasicConv2d(4, 6, 3, padding=1))
        self.branch3 = nn.MaxPool2d(3, stride=1, padding=1)

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class DataDependent(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


@pytest.fixture(scope="module")
def networks():
    small = InceptionV2Config(num_classes=10, in_channels=1, image_size=16, stem="small", width=0.125)
    with torch.device("meta"):  # a diagram needs the modules, not their weights
        return {"GoogLeNet": GoogLeNet(), "BNInception": BNInception(aux_logits=True), "InceptionV2": InceptionV2(),
                "InceptionV2Variant": build_inception_v2(small), "GoogLeNet32": GoogLeNet(10, image_size=32)}


# --- the chart ------------------------------------------------------------------------------------------------

def test_flowchart_draws_branches_and_concat():
    chart = flowchart(TwoBranches())
    assert isinstance(chart, FlowChart)
    source = mermaid_source(chart)
    assert source.startswith("flowchart TB")
    assert '["1×1 conv, 4"]' in source and '["3×3 conv, 6"]' in source and '["3×3 max pool"]' in source
    assert source.count("--> cat") == 3  # three branches meet in one concat
    assert "---" not in source  # no YAML title block: MyST would read it as directive options
    assert mermaid_source(flowchart(TwoBranches(), orientation="LR")).startswith("flowchart LR")


def test_show_bundle_is_deterministic_and_complete():
    bundle = show(flowchart(TwoBranches()))._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/markdown", "text/html"}
    assert bundle["text/markdown"].startswith("```mermaid\nflowchart TB")
    assert '<pre class="mermaid"' in bundle["text/html"] and "import mermaid" in bundle["text/html"]
    assert bundle == show(flowchart(TwoBranches()))._repr_mimebundle_()


def test_show_accepts_source_text():
    assert show("flowchart LR\n  a --> b").source == "flowchart LR\n  a --> b"


def test_leaves_keep_blocks_whole():
    model = nn.Sequential(TwoBranches(), nn.ReLU())
    source = mermaid_source(flowchart(model, leaves=(TwoBranches,)))
    assert '["0: TwoBranches"]' in source and "conv" not in source


@pytest.mark.parametrize(("module", "label"), [
    (nn.Conv2d(3, 64, 7, stride=2, padding=3), "7×7 conv, 64 /2"),
    (BasicConv2d(64, 128, (1, 7), padding=(0, 3)), "1×7 conv, 128"),
    (BasicConv2d(64, 128, 3, stride=(1, 2)), "3×3 conv, 128 /1×2"),
    (nn.MaxPool2d(3, stride=2, ceil_mode=True), "3×3 max pool /2"),
    (nn.AvgPool2d(5, stride=3), "5×5 avg pool /3"),
    (nn.AvgPool2d(2), "2×2 avg pool /2"),
    (nn.AdaptiveAvgPool2d(1), "global avg pool"),
    (nn.AdaptiveAvgPool2d(4), "adaptive avg pool to 4×4"),
    (nn.Linear(1024, 10), "FC, 10"),
    (nn.Dropout(0.4), "dropout 0.4"),
    (nn.LocalResponseNorm(5), "LRN"),
    (nn.BatchNorm2d(4), "BN"),
    (nn.Flatten(), "flatten"),
    (nn.Identity(), "identity"),
    (Inception(192, 64, 96, 128, 16, 32, 32), "Inception, 256"),
    (BNInceptionReduction(320, 128, 160, 64, 96), "Inception /2, 576"),
    (InceptionFig6(768, 192, 160, 192, 160, 192, 192, n=7), "Inception Fig. 6 n=7, 768"),
    (GridReduction(288, 192, 384, 64, 96), "grid reduction Fig. 10, 768"),
    (InceptionAux(512, 10), "auxiliary classifier"),
    (InceptionAuxV2(768, 10), "auxiliary head Fig. 8"),
])
def test_labels_are_derived_from_module_types(module, label):
    assert describe(module) == label
    assert describe(module, "x") == (f"x: {label}" if isinstance(module, BLOCKS[:-1]) else label)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: flowchart("conv"), "flowchart expects a torch.nn.Module, got str"),
        (lambda: flowchart(DataDependent()), "torch.fx could not trace DataDependent"),
        (lambda: flowchart(nn.ReLU(), leaves=(int,)), "leaves must be nn.Module subclasses"),
        (lambda: show(42), "expected a mermaid-py FlowChart or mermaid source text, got int"),
    ],
)
def test_diagrams_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_flowchart_rejects_an_unknown_orientation():
    """``orientation`` is "TB" or "LR" (mermaid also knows TD, BT, RL); anything else would give a chart
    mermaid cannot draw, so it is refused like every other bad argument."""
    with pytest.raises(ValueError, match="orientation"):
        flowchart(nn.ReLU(), orientation="XY")


# --- derived, not carried ---------------------------------------------------------------------------------

def test_no_class_carries_a_diagram_label_or_a_name_argument():
    classes = [(path, node) for path in SOURCES for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.ClassDef)]
    found = []
    for path, cls in classes:
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name == "diagram_label":
                found.append(f"{path.name}: {cls.name}.diagram_label")
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                names = [a.arg for a in item.args.args + item.args.kwonlyargs]
                if "name" in names:
                    found.append(f"{path.name}: {cls.name}(name=...)")
    assert len(classes) > 20 and not found, found


@pytest.mark.parametrize("module", [layers, googlenet, bn_inception, inception_v2, customizing, batchnorm,
                                    bn_experiment], ids=lambda m: m.__name__)
def test_no_module_class_has_diagram_plumbing_at_run_time(module):
    classes = [c for c in vars(module).values()
               if inspect.isclass(c) and issubclass(c, nn.Module) and c.__module__ == module.__name__]
    assert classes
    for cls in classes:
        assert not hasattr(cls, "diagram_label"), cls
        assert "name" not in inspect.signature(cls).parameters, cls


def test_no_forward_knows_it_is_traced():
    offenders = []
    for path in SOURCES:
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef) and node.name == "forward":
                body = ast.get_source_segment(text, node)
                if any(word in body for word in ("Proxy", "fx.", "is_tracing", "is_scripting")):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders
    assert not any("fx.Proxy" in path.read_text() for path in SOURCES)


def test_aux_head_diagrams_show_the_pool_the_module_has(networks):
    heads = {
        "GoogLeNet() aux1": (networks["GoogLeNet"].aux1, "5×5 avg pool /3"),
        "GoogLeNet(image_size=32) aux1": (networks["GoogLeNet32"].aux1, "adaptive avg pool to 4×4"),
        "InceptionV2() AuxLogits": (networks["InceptionV2"].AuxLogits, "5×5 avg pool /3"),
        "small-stem AuxLogits": (networks["InceptionV2Variant"].AuxLogits, "adaptive avg pool to 5×5"),
    }
    for what, (head, label) in heads.items():
        text = mermaid_source(flowchart(head))
        assert f'pool["{label}"]' in text, what
        assert describe(head.pool) == label, what
        other = "adaptive" if "5×5 avg pool" in label else "5×5 avg pool"
        assert other not in text, what
    googlenet_text = mermaid_source(flowchart(networks["GoogLeNet"].aux1))
    for label in ("1×1 conv, 128", "flatten", "FC, 1024", "ReLU", "dropout 0.7", "FC, 1000"):
        assert f'"{label}"' in googlenet_text


@pytest.mark.parametrize("name", ["GoogLeNet", "BNInception", "InceptionV2", "InceptionV2Variant"])
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_whole_networks_trace_without_nodes_for_the_input_checks(networks, name, mode):
    net = networks[name].train(mode == "train")
    for leaves in ((BasicConv2d,), BLOCKS):
        text = mermaid_source(flowchart(net, leaves=leaves, orientation="LR"))
        assert text.startswith("flowchart LR") and '("input")' in text and '("output")' in text
        assert "check" not in text.lower() and "validation" not in text
        assert ("aux" in text.lower()) == (mode == "train"), (name, mode)
    net.eval()
