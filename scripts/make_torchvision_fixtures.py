"""Make the torchvision fixtures of tests/fixtures/torchvision/ (run once, by hand, NOT by the tests).

The book's ``InceptionV3`` and ``GoogLeNet.torchvision_layout()`` must load torchvision's ImageNet state
dicts with ``strict=True`` and give torchvision's logits. torchvision is not a dependency of the project
(its PyPI wheel is built against another torch than the pinned CPU torch, and its C++ operators fail to
register next to it), so this script records, from torchvision's own model definitions, what the tests
compare against:

* ``<model>.json``: torchvision's version, the state dict's keys in order with their shapes and dtypes,
  and how the fixed input is made;
* ``<model>_logits.json``: the logits of a fixed input for deterministic weights made from the key
  names, rounded to 6 decimals, in eval mode (with ``transform_input`` off and on) and in training mode
  (main and auxiliary logits, BN on batch statistics, dropout switched off so that they are deterministic).
  JSON rather than a ``.pt`` file: text diffs, and the repository ignores ``*.pt`` (weights stay out).

No weights are downloaded: every tensor is made by ``inception.pretrained.deterministic_tensor`` from its
key's name (the package's code, imported from ``src/``; it needs only torch), and the tests import this
file to rebuild the same state dicts from the fixtures' key lists.

How torchvision's model definitions are imported next to the pinned torch. ``import torchvision`` runs
``torchvision/__init__.py``, which loads the compiled extension (``torchvision.extension`` tolerates its
failure: ``_has_ops()`` is then False) and then ``torchvision._meta_registrations``, which calls
``torch.library.register_fake("torchvision::nms")`` and friends: with no compiled operators, that raises
``RuntimeError: operator torchvision::nms does not exist``. The models are pure Python and use none of
those operators, so :func:`import_torchvision_models` puts an empty module in ``sys.modules`` under that
name before importing; everything else imports as usual. The scratch environment used (outside the
repository, never committed):

    python3 -m venv /tmp/tvenv
    echo /path/to/repo/.venv/lib/python3.11/site-packages > /tmp/tvenv/lib/python3.11/site-packages/repo.pth
    /tmp/tvenv/bin/pip install --no-deps torchvision==0.28.0
    /tmp/tvenv/bin/python scripts/make_torchvision_fixtures.py

(the ``.pth`` line lends the scratch environment the project's torch 2.13.0 CPU build; ``--no-deps`` keeps
pip from replacing it).
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # the book's package, next to torch
from inception.pretrained import BATCH, INPUT_SEED, deterministic_tensor, fixed_input  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "torchvision"
#: Sides of the fixed inputs, per model and mode: small where the network allows it, so that the tests
#: stay fast (Inception-v3's training mode, with its auxiliary head, takes only 299×299 in the book).
INPUT_SIZES = {"googlenet": {"eval": 112, "train": 112}, "inception_v3": {"eval": 139, "train": 299}}


def deterministic_state_dict(entries: list[dict]) -> dict[str, torch.Tensor]:
    """The state dict of a fixture's ``entries`` (``{"key", "shape", "dtype"}``), rebuilt from the names."""
    return {e["key"]: deterministic_tensor(e["key"], tuple(e["shape"]), getattr(torch, e["dtype"])) for e in entries}


def state_dict_entries(model: nn.Module) -> list[dict]:
    """A model's state-dict keys, in order, with shapes and dtypes (``"float32"``, ``"int64"``)."""
    return [{"key": k, "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
            for k, t in model.state_dict().items()]


def train_outputs(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Main and auxiliary logits in training mode, with every dropout off (so they are deterministic).

    BN normalizes with the batch's statistics (and updates its running statistics: reload the state
    dict afterwards). Returns ``[logits, aux…]`` with the auxiliary heads in network order.
    """
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    with torch.no_grad():
        out = model(x)
    model.eval()
    return list(_flatten(out))


def _flatten(out) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for part in out for t in _flatten(part)]


def import_torchvision_models() -> types.ModuleType:
    """``import torchvision`` without its compiled operators (see the module's docstring)."""
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torchvision

    return torchvision


def _outputs(build, sizes: dict[str, int]) -> tuple[list[dict], dict[str, torch.Tensor]]:
    """Keys and logits of one torchvision model, built by ``build(transform_input)``."""
    model = build(False).eval()
    entries = state_dict_entries(model)
    state = deterministic_state_dict(entries)
    model.load_state_dict(state, strict=True)
    x = fixed_input(sizes["eval"])
    with torch.no_grad():
        logits = {"eval": model(x)}
        transformed = build(True).eval()
        transformed.load_state_dict(state, strict=True)
        logits["eval_transform_input"] = transformed(x)
    main, *aux = train_outputs(model, fixed_input(sizes["train"]))
    logits["train"] = main
    # torchvision's GoogLeNetOutputs lists aux2 before aux1: store them in network order
    aux = aux[::-1] if len(aux) == 2 else aux
    logits.update({f"train_aux{i}": a for i, a in enumerate(aux, 1)})
    return entries, {k: v.contiguous().clone() for k, v in logits.items()}


def _json(meta: dict, entries: list[dict]) -> str:
    """The fixture's JSON: ``meta``'s fields, then ``"state_dict"`` with one entry a line (small diffs)."""
    head = json.dumps(meta, indent=1)[:-2]  # without the closing "\n}"
    lines = ",\n".join("  " + json.dumps(e) for e in entries)
    return f'{head},\n "state_dict": [\n{lines}\n ]\n}}\n'


def _logits_json(logits: dict[str, torch.Tensor]) -> str:
    """``{"eval": [[…], […]], …}``, one image's logits a line, each rounded to 6 decimals."""
    blocks = []
    for name, tensor in logits.items():
        rows = ",\n".join("  " + json.dumps([round(v, 6) for v in row]) for row in tensor.tolist())
        blocks.append(f' "{name}": [\n{rows}\n ]')
    return "{\n" + ",\n".join(blocks) + "\n}\n"


def load_logits(path: Path) -> dict[str, torch.Tensor]:
    """A ``<model>_logits.json`` fixture as float32 tensors."""
    return {name: torch.tensor(rows, dtype=torch.float32) for name, rows in json.loads(path.read_text()).items()}


def main() -> None:
    tv = import_torchvision_models()
    from torchvision.models.googlenet import GoogLeNet
    from torchvision.models.inception import Inception3

    builders = {
        "googlenet": lambda t: GoogLeNet(aux_logits=True, transform_input=t, init_weights=False),
        "inception_v3": lambda t: Inception3(aux_logits=True, transform_input=t, init_weights=False),
    }
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, build in builders.items():
        entries, logits = _outputs(build, INPUT_SIZES[name])
        meta = {"model": name, "torchvision": tv.__version__, "torch": torch.__version__,
                "input": {"batch": BATCH, "sizes": INPUT_SIZES[name], "seed": INPUT_SEED},
                "outputs": {k: list(v.shape) for k, v in logits.items()}}
        (FIXTURES / f"{name}.json").write_text(_json(meta, entries))
        (FIXTURES / f"{name}_logits.json").write_text(_logits_json(logits))
        print(name, len(entries), "keys;", {k: round(v.abs().max().item(), 3) for k, v in logits.items()})


if __name__ == "__main__":
    main()
