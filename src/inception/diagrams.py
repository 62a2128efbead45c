"""Diagrams generated from code: a module → a mermaid flowchart of its branches and concatenations.

A figure drawn from the module itself can never disagree with the code it shows. ``flowchart`` traces
the module with ``torch.fx`` (each leaf becomes a box, each ``torch.cat`` a "concat" box) and builds a
mermaid-py ``FlowChart``; ``show`` displays any mermaid source offline and deterministically:

* ``text/markdown``: a ```` ```mermaid ```` fence, drawn by JupyterLab and by the book's site
  (sphinxcontrib-mermaid);
* ``text/html``: the source plus a script that loads mermaid.js, for Colab and classic Jupyter;
* ``text/plain``: the mermaid source itself.

Nothing here calls a web service (mermaid-py's ``Mermaid`` class would, at construction).
"""

from __future__ import annotations

import hashlib
import html
import operator
import re
from collections.abc import Callable, Iterable

import torch
from mermaid.flowchart import FlowChart, Link, Node
from torch import fx, nn

from inception.layers import BasicConv2d
from inception.validation import check_channels, check_choice, check_image_batch

MERMAID_JS = "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs"

#: Module types drawn as one box unless ``leaves`` says otherwise.
DEFAULT_LEAVES: tuple[type[nn.Module], ...] = (BasicConv2d,)

#: The input checks of :mod:`inception.validation`: opaque calls in a trace; like every call whose result
#: is unused, they are not drawn.
CHECKS = (check_channels, check_image_batch)

# Operations that move data without computing anything a reader needs to see.
_PASS_THROUGH_FUNCTIONS = {operator.getitem, torch.flatten, getattr}
_PASS_THROUGH_METHODS = {"flatten", "view", "reshape", "contiguous", "squeeze", "unsqueeze"}
_FUNCTION_LABELS = {torch.cat: "concat", operator.add: "add", torch.add: "add", torch.relu: "ReLU",
                    torch.nn.functional.relu: "ReLU"}

#: What the papers call each block of the package, by class name (the label of a block drawn as one box).
BLOCK_NAMES = {
    "NaiveInception": "naive Inception", "Inception": "Inception", "InceptionAux": "auxiliary classifier",
    "BNInceptionModule": "Inception", "BNInceptionReduction": "Inception /2",
    "InceptionFig5": "Inception Fig. 5", "InceptionFig6": "Inception Fig. 6", "InceptionFig7": "Inception Fig. 7",
    "GridReduction": "grid reduction Fig. 10", "InceptionAuxV2": "auxiliary head Fig. 8",
    "BatchNorm2d": "BN (Algorithm 1)",
    "InceptionA": "Inception-v3 A, 35×35", "InceptionB": "Inception-v3 B, 35→17",
    "InceptionC": "Inception-v3 C, 17×17", "InceptionD": "Inception-v3 D, 17→8",
    "InceptionE": "Inception-v3 E, 8×8",
}


def _pair_text(value: int | tuple[int, ...]) -> str:
    values = (value, value) if isinstance(value, int) else tuple(value)
    return f"{values[0]}×{values[1]}"


def _stride_text(stride: int | tuple[int, ...]) -> str:
    values = (stride, stride) if isinstance(stride, int) else tuple(stride)
    if values == (1, 1):
        return ""
    return f" /{values[0]}" if values[0] == values[1] else f" /{values[0]}×{values[1]}"


def _conv(m: nn.Conv2d) -> str:
    return f"{_pair_text(m.kernel_size)} conv, {m.out_channels}{_stride_text(m.stride)}"


def _pool(kind: str) -> Callable[[nn.Module], str]:
    return lambda m: f"{_pair_text(m.kernel_size)} {kind} pool{_stride_text(m.stride or m.kernel_size)}"


def _adaptive(m: nn.AdaptiveAvgPool2d) -> str:
    return "global avg pool" if m.output_size in (1, (1, 1)) else f"adaptive avg pool to {_pair_text(m.output_size)}"


_LAYER_LABELS: dict[type[nn.Module], Callable[[nn.Module], str]] = {
    BasicConv2d: lambda m: _conv(m.conv),
    nn.Conv2d: _conv,
    nn.MaxPool2d: _pool("max"),
    nn.AvgPool2d: _pool("avg"),
    nn.AdaptiveAvgPool2d: _adaptive,
    nn.Linear: lambda m: f"FC, {m.out_features}",
    nn.Dropout: lambda m: f"dropout {m.p:g}",
    nn.LocalResponseNorm: lambda m: "LRN",
    nn.BatchNorm1d: lambda m: "BN",
    nn.BatchNorm2d: lambda m: "BN",
    nn.ReLU: lambda m: "ReLU",
    nn.Flatten: lambda m: "flatten",
    nn.Identity: lambda m: "identity",
}


def describe(module: nn.Module, name: str = "") -> str:
    """A short label for one layer or block, read from its type and attributes, as the papers write it.

    Layers: ``"3×3 max pool /2"``, ``"1×7 conv, 128"``, ``"FC, 1000"``. Blocks: their paper name and
    output channels, after their attribute ``name`` if given: ``"inception3a: Inception, 256"``,
    ``"Mixed_6b: Inception Fig. 6 n=7, 768"``.
    """
    for kind, label in _LAYER_LABELS.items():
        if type(module) is kind:
            return label(module)
    text = BLOCK_NAMES.get(type(module).__name__, type(module).__name__)
    if hasattr(module, "n"):
        text += f" n={module.n}"
    if hasattr(module, "out_channels"):
        text += f", {module.out_channels}"
    return f"{name}: {text}" if name else text


class _Tracer(fx.Tracer):
    def __init__(self, leaves: tuple[type[nn.Module], ...]) -> None:
        super().__init__(autowrap_functions=CHECKS)
        self.leaves = leaves

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, self.leaves) or super().is_leaf_module(m, qualname)


def _node_id(name: str) -> str:
    return re.sub(r"\W", "_", name)


def trace(module: nn.Module, leaves: Iterable[type[nn.Module]] = DEFAULT_LEAVES) -> fx.GraphModule:
    """Symbolically trace ``module``, keeping instances of ``leaves`` as single calls."""
    if not isinstance(module, nn.Module):
        raise ValueError(f"flowchart expects a torch.nn.Module, got {type(module).__name__}")
    leaves = tuple(leaves)
    if not all(isinstance(t, type) and issubclass(t, nn.Module) for t in leaves):
        raise ValueError(f"leaves must be nn.Module subclasses, got {leaves!r}")
    try:
        graph = _Tracer(leaves).trace(module)
    except Exception as error:  # fx raises TraceError, TypeError, RuntimeError, ...
        raise ValueError(
            f"torch.fx could not trace {type(module).__name__}: {error}. Data-dependent control flow "
            "cannot be traced; pass the offending submodule's class in leaves=... to draw it as one box"
        ) from error
    return fx.GraphModule(module, graph)


def _label(n: fx.Node, named: dict[str, nn.Module]) -> str | None:
    """The box a node becomes, or ``None`` for a node drawn through (reshapes, indexing, input checks)."""
    if n.op in ("placeholder", "output"):
        return "input" if n.op == "placeholder" else "output"
    if n.op == "call_module":
        module = named[n.target]
        block = "." not in n.target and type(module) not in _LAYER_LABELS
        return describe(module, n.target if block else "")
    if n.op == "call_function" and n.target in _FUNCTION_LABELS:
        return _FUNCTION_LABELS[n.target]
    unused_call = n.op == "call_function" and not n.users  # an input check: its result is never used
    drawn_through = unused_call or (n.op == "call_function" and n.target in _PASS_THROUGH_FUNCTIONS) or (
        n.op == "call_method" and n.target in _PASS_THROUGH_METHODS) or n.op == "get_attr"
    return None if drawn_through else getattr(n.target, "__name__", str(n.target))


def flowchart(module: nn.Module, leaves: Iterable[type[nn.Module]] = DEFAULT_LEAVES,
              title: str | None = None, orientation: str = "TB") -> FlowChart:
    """Trace ``module`` with ``torch.fx`` and return a mermaid-py ``FlowChart`` of its data flow.

    Leaf modules become boxes labelled by :func:`describe` ("1×1 conv, 64"), ``torch.cat`` becomes a
    "concat" box, reshapes and indexing are drawn through. Labels are quoted by mermaid-py, so
    parentheses in them are safe. ``title`` names the mermaid-py chart; :func:`show` does not draw it
    (MyST would read mermaid's YAML title block as directive options), so captions belong in the text.
    Raises ``ValueError`` for something that is not a module or that ``torch.fx`` cannot trace.
    """
    check_choice("orientation", orientation, ("TB", "TD", "BT", "LR", "RL"))
    traced = trace(module, leaves)
    named = dict(traced.named_modules())
    nodes: dict[str, Node] = {}
    sources: dict[fx.Node, list[Node]] = {}  # fx node -> the drawn nodes its value comes from
    links: list[Link] = []
    for n in traced.graph.nodes:
        inputs = list(dict.fromkeys(s for arg in n.all_input_nodes for s in sources.get(arg, [])))
        label = _label(n, named)
        if label is None:
            sources[n] = inputs
            continue
        node = Node(_node_id(n.name), label, shape="round-edge" if n.op in ("placeholder", "output") else "normal")
        nodes[node.id_] = node
        sources[n] = [node]
        links.extend(Link(src, node) for src in inputs)
    return FlowChart(title or type(module).__name__, list(nodes.values()), links, orientation=orientation)


def mermaid_source(chart: FlowChart | str) -> str:
    """The mermaid text of a chart, without mermaid-py's YAML title block (MyST would read it as options)."""
    if isinstance(chart, FlowChart):
        text = chart.script
    elif isinstance(chart, str):
        text = chart
    else:
        raise ValueError(f"expected a mermaid-py FlowChart or mermaid source text, got {type(chart).__name__}")
    text = re.sub(r"\A---\n.*?\n---\n", "", text.strip() + "\n", flags=re.S)
    return text.replace("\t", "    ").strip()


class MermaidDiagram:
    """A mermaid diagram that displays itself offline, with the same bytes on every machine."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        element = "mermaid-" + hashlib.sha1(self.source.encode()).hexdigest()[:12]
        page = (
            f'<pre class="mermaid" id="{element}">\n{html.escape(self.source)}\n</pre>\n'
            f'<script type="module">\nimport mermaid from "{MERMAID_JS}";\n'
            f'mermaid.run({{nodes: [document.getElementById("{element}")]}});\n</script>'
        )
        return {
            "text/plain": self.source,
            "text/markdown": f"```mermaid\n{self.source}\n```",
            "text/html": page,
        }

    def __repr__(self) -> str:
        return self.source


def show(chart_or_source: FlowChart | str) -> MermaidDiagram:
    """Display a mermaid-py chart or mermaid source text as an offline diagram (see module docstring)."""
    return MermaidDiagram(mermaid_source(chart_or_source))
