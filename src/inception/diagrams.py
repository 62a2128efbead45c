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
from collections.abc import Iterable

import torch
from mermaid.flowchart import FlowChart, Link, Node
from torch import fx, nn

from inception.layers import BasicConv2d

MERMAID_JS = "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs"

#: Module types drawn as one box unless ``leaves`` says otherwise.
DEFAULT_LEAVES: tuple[type[nn.Module], ...] = (BasicConv2d,)

# Operations that move data without computing anything a reader needs to see.
_PASS_THROUGH_FUNCTIONS = {operator.getitem, torch.flatten, getattr}
_PASS_THROUGH_METHODS = {"flatten", "view", "reshape", "contiguous", "squeeze", "unsqueeze"}
_FUNCTION_LABELS = {torch.cat: "concat", operator.add: "add", torch.add: "add", torch.relu: "ReLU",
                    torch.nn.functional.relu: "ReLU"}


def _pool_label(m: nn.Module, kind: str) -> str:
    k, s = m.kernel_size, m.stride
    k = k if isinstance(k, int) else "×".join(map(str, k)) if len(set(k)) > 1 else k[0]
    s = s if isinstance(s, int) else s[0]
    text = f"{k}×{k} {kind} pool" if isinstance(k, int) else f"{k} {kind} pool"
    return text + (f" /{s}" if s != 1 else "")


def describe(module: nn.Module) -> str:
    """A short label for one layer or block, as the papers write it ("3×3 max pool /2", "FC, 1000")."""
    if hasattr(module, "diagram_label"):
        return module.diagram_label()
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        text = f"{kh}×{kw} conv, {module.out_channels}"
        return text + (f" /{module.stride[0]}" if module.stride != (1, 1) else "")
    if isinstance(module, nn.MaxPool2d):
        return _pool_label(module, "max")
    if isinstance(module, nn.AvgPool2d):
        return _pool_label(module, "avg")
    if isinstance(module, nn.AdaptiveAvgPool2d):
        size = module.output_size
        return "global avg pool" if size in (1, (1, 1)) else f"adaptive avg pool to {size}"
    if isinstance(module, nn.Linear):
        return f"FC, {module.out_features}"
    if isinstance(module, nn.Dropout):
        return f"dropout {module.p:g}"
    if isinstance(module, nn.LocalResponseNorm):
        return "LRN"
    if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
        return "BN"
    if isinstance(module, nn.ReLU):
        return "ReLU"
    if isinstance(module, nn.Flatten):
        return "flatten"
    return type(module).__name__


class _Tracer(fx.Tracer):
    def __init__(self, leaves: tuple[type[nn.Module], ...]) -> None:
        super().__init__()
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


def flowchart(module: nn.Module, leaves: Iterable[type[nn.Module]] = DEFAULT_LEAVES,
              title: str | None = None, orientation: str = "TB") -> FlowChart:
    """Trace ``module`` with ``torch.fx`` and return a mermaid-py ``FlowChart`` of its data flow.

    Leaf modules become boxes labelled by :func:`describe` ("1×1 conv, 64"), ``torch.cat`` becomes a
    "concat" box, reshapes and indexing are drawn through. Labels are quoted by mermaid-py, so
    parentheses in them are safe. ``title`` names the mermaid-py chart; :func:`show` does not draw it
    (MyST would read mermaid's YAML title block as directive options), so captions belong in the text.
    Raises ``ValueError`` for something that is not a module or that ``torch.fx`` cannot trace.
    """
    traced = trace(module, leaves)
    named = dict(traced.named_modules())
    nodes: dict[str, Node] = {}
    sources: dict[fx.Node, list[Node]] = {}  # fx node -> the drawn nodes its value comes from
    links: list[Link] = []
    for n in traced.graph.nodes:
        inputs = [s for arg in n.all_input_nodes for s in sources.get(arg, [])]
        if n.op == "placeholder":
            label = "input"
        elif n.op == "output":
            label = "output"
        elif n.op == "call_module":
            label = describe(named[n.target])
        elif n.op == "call_function" and n.target in _FUNCTION_LABELS:
            label = _FUNCTION_LABELS[n.target]
        elif (n.op == "call_function" and n.target in _PASS_THROUGH_FUNCTIONS) or (
            n.op == "call_method" and n.target in _PASS_THROUGH_METHODS
        ) or n.op == "get_attr":
            sources[n] = list(dict.fromkeys(inputs))
            continue
        else:
            label = getattr(n.target, "__name__", str(n.target))
        node = Node(_node_id(n.name), label, shape="round-edge" if n.op in ("placeholder", "output") else "normal")
        nodes[node.id_] = node
        sources[n] = [node]
        for src in dict.fromkeys(inputs):
            links.append(Link(src, node))
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
