"""The network the book's site runs in the reader's browser: ``python -m inception.export``.

:func:`train_digits_network` trains chapter 10's Inception-v2 on the digits (``DIGITS_RECIPES
["inception_v2"]``, seed 0, on one thread so that the weights come out bit for bit the same on every run);
:class:`DigitReader` wraps it for the page: it takes the digits data set's raw 8×8 images (grey levels
0 to 16, what the widget computes from a drawing, see :mod:`inception.drawing`), normalizes them as the
training data was, and returns the ten class probabilities and the four branch outputs of the first
Inception module (``Mixed_5b``, Figure 5 of Szegedy et al. 2016), each averaged over its channels into one
8×8 map. Its batch normalizations are folded into the convolutions (:func:`~inception.deploy.fold_batch_norm`).

:func:`onnx_bytes` exports a module to ONNX with PyTorch's exporter (``torch.onnx.export(dynamo=True)``);
the same module gives the same bytes. The book serves the result at ``book/_static/widget/digit_reader.onnx``
and the tests check that this file is what ``python -m inception.export`` writes.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import logging
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from inception.deploy import fold_batch_norm
from inception.history import History
from inception.recipes import DIGITS_RECIPES
from inception.training import fit
from inception.validation import check_count, check_module, check_positive

#: The Inception module whose four branches the widget shows.
TAPPED_MODULE = "Mixed_5b"
OUTPUT_NAMES = ("probabilities", "branch1", "branch2", "branch3", "branch4")
INPUT_NAME = "counts"


@dataclass
class TrainedDigitsNetwork:
    """A network trained on the digits, with the normalization its training images had."""

    model: nn.Module
    mean: float
    std: float
    history: History


def train_digits_network(seed: int = 0) -> TrainedDigitsNetwork:
    """Chapter 10's Inception-v2 trained by its recipe on the digits' training split (``seed`` fixes the
    split, the initial weights and the order of the batches), on one thread (restored afterwards)."""
    check_count("seed", seed)
    recipe = DIGITS_RECIPES["inception_v2"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_loader, test_loader = recipe.loaders(seed=seed)
        torch.manual_seed(seed)
        model = recipe.build_model()
        history = fit(model, train_loader, test_loader, epochs=recipe.epochs, seed=seed, **recipe.fit_settings())
    finally:
        torch.set_num_threads(threads)
    data = train_loader.dataset
    return TrainedDigitsNetwork(model.eval(), data.mean, data.std, history)


class DigitReader(nn.Module):
    """Raw digits (N, 1, 8, 8), grey levels 0..16 → class probabilities (N, 10) and the four branch
    outputs of ``Mixed_5b``, each averaged over its channels: (N, H, W) for the module's grid H×W.

    ``network`` is an Inception-v2 built by :func:`~inception.customizing.build_inception_v2` (its layers
    run in the order of ``before_aux`` and ``after_aux``); ``mean`` and ``std`` are its training data's.
    The probabilities are ``softmax(network(normalized))``; only ``Mixed_5b`` is run branch by branch so
    that the branches can be returned too (its output is their concatenation, as in its ``forward``).
    """

    def __init__(self, network: nn.Module, mean: float, std: float) -> None:
        super().__init__()
        check_module(network)
        names = [*getattr(network, "before_aux", ()), *getattr(network, "after_aux", ())]
        if TAPPED_MODULE not in names or not hasattr(network.get_submodule(TAPPED_MODULE), "branch4"):
            raise ValueError(f"DigitReader expects an Inception-v2 from build_inception_v2 with a Figure 5 module "
                             f"{TAPPED_MODULE}, got {type(network).__name__} with layers {names}")
        check_positive("std", std)
        if isinstance(mean, bool) or not isinstance(mean, int | float):
            raise ValueError(f"DigitReader expects the training data's mean as a number, got {mean!r}")
        self.network = network.eval()
        self.layers = names
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, counts: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = (counts - self.mean) / self.std
        maps = []
        for name in self.layers:
            layer = self.network.get_submodule(name)
            if name == TAPPED_MODULE:
                branches = [layer.branch1(x), layer.branch2(x), layer.branch3(x), layer.branch4(x)]
                maps = [branch.mean(dim=1) for branch in branches]
                x = torch.cat(branches, 1)
            else:
                x = layer(x)
        logits = self.network.fc(self.network.dropout(torch.flatten(self.network.avgpool(x), 1)))
        return (torch.softmax(logits, dim=1), *maps)


def digit_reader(trained: TrainedDigitsNetwork, fold: bool = True) -> DigitReader:
    """The page's module for a trained network, with its batch normalizations folded (``fold=True``)."""
    network = fold_batch_norm(trained.model) if fold else trained.model
    return DigitReader(network, trained.mean, trained.std).eval()


def onnx_bytes(module: nn.Module, example: torch.Tensor, input_name: str = INPUT_NAME,
               output_names: tuple[str, ...] | None = None, dynamic_batch: bool = True) -> bytes:
    """``module`` exported to ONNX by ``torch.onnx.export(dynamo=True)`` (the exporter's messages kept
    quiet), as the bytes of an ``.onnx`` file without the exporter's provenance notes, so that they depend
    only on the network; the batch dimension is dynamic unless ``dynamic_batch`` is false. ``module`` is
    exported, and left, in eval mode."""
    check_module(module)
    if not isinstance(example, torch.Tensor):
        raise ValueError(f"onnx_bytes expects an example input tensor, got {type(example).__name__}")
    argument = next(iter(inspect.signature(module.forward).parameters))
    dynamic = {argument: {0: torch.export.Dim("batch")}} if dynamic_batch else None
    quiet, logger = io.StringIO(), logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet), torch.no_grad(), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "exporting in training mode" for a torchao graph in eval
            module.eval()
            program = torch.onnx.export(module, (example,), dynamo=True, dynamic_shapes=dynamic,
                                        input_names=[input_name], output_names=list(output_names or ()),
                                        verbose=False)
    finally:
        logger.setLevel(level)
    return _without_provenance(program.model_proto).SerializeToString(deterministic=True)


def _without_provenance(model):
    """The ONNX model without the exporter's notes on where each node came from (the Python stack with
    the source files' paths, the export's graph signature): the same network exported from another folder
    or another edit of the source gives the same bytes."""
    del model.metadata_props[:]
    del model.graph.metadata_props[:]
    for node in model.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    return model


def digit_reader_onnx(seed: int = 0) -> tuple[bytes, TrainedDigitsNetwork]:
    """The bytes of the site's model and the trained network they come from."""
    trained = train_digits_network(seed)
    reader = digit_reader(trained)
    return onnx_bytes(reader, torch.zeros(1, 1, 8, 8), output_names=OUTPUT_NAMES), trained


def main(argv: list[str] | None = None) -> Path:
    p = argparse.ArgumentParser(prog="python -m inception.export", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("digit_reader.onnx"), help="where to write the model")
    p.add_argument("--check", action="store_true",
                   help="do not write: exit with 1 unless --out already holds exactly these bytes")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.seed < 0:
        raise SystemExit("error: --seed must be a non-negative integer")
    data, trained = digit_reader_onnx(args.seed)
    accuracy = trained.history.test_accuracy[-1]
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(f"{args.out}: {'the same' if same else 'DIFFERENT'} bytes as the export "
              f"(test accuracy {accuracy:.1%})")
        if not same:
            raise SystemExit(1)
        return args.out
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data):,} bytes); test accuracy {accuracy:.1%}")
    return args.out


if __name__ == "__main__":
    main(sys.argv[1:])
