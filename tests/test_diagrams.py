import pytest
import torch
from mermaid.flowchart import FlowChart
from torch import nn

from inception.diagrams import flowchart, mermaid_source, show
from inception.layers import BasicConv2d


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


def test_flowchart_draws_branches_and_concat():
    chart = flowchart(TwoBranches())
    assert isinstance(chart, FlowChart)
    source = mermaid_source(chart)
    assert source.startswith("flowchart TB")
    assert '["1×1 conv, 4"]' in source and '["3×3 conv, 6"]' in source and '["3×3 max pool"]' in source
    assert source.count("--> cat") == 3  # three branches meet in one concat
    assert "---" not in source  # no YAML title block: MyST would read it as directive options


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
    assert '["TwoBranches"]' in source and "conv" not in source


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
