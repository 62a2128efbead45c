"""Int8 post-training quantization, with the API PyTorch recommends for torch 2.13: PT2E in ``torchao``.

``torch.ao.quantization`` (eager and FX graph mode) is deprecated in torch 2.13 and its warning points to
``torchao``'s PT2E flow, which :func:`quantize_int8` follows:

1. ``torch.export.export`` captures the network as a graph (batch dimension dynamic);
2. ``prepare_pt2e`` with ``X86InductorQuantizer`` (its default configuration) inserts observers: weights
   int8 in [−128, 127], symmetric, one scale per output channel; activations uint8 in [0, 255], affine
   (a scale and a zero point), one pair per tensor;
3. calibration: a few batches of real images go through, and the observers record each tensor's range;
4. ``convert_pt2e`` replaces observers by quantize/dequantize pairs with the recorded scales.

The result is a *reference* quantized graph: run by PyTorch in eager mode it still computes in float
between the quantize/dequantize pairs (it is slower, not faster). A backend that runs int8 kernels makes
it fast: ``torch.compile`` (Inductor, which needs a C++ compiler), or ONNX Runtime after an ONNX export
(:func:`inception.export.onnx_bytes`), which fuses each pair around a convolution into an int8
convolution. Chapter 12 measures both sides.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import warnings
from collections.abc import Iterable

import torch
from torch import nn

from inception.validation import check_module


def _calibration_batches(calibration: object) -> list[torch.Tensor]:
    batches = [calibration] if isinstance(calibration, torch.Tensor) else list(calibration)
    if not batches or not all(isinstance(b, torch.Tensor) and b.dim() == 4 and len(b) > 0 for b in batches):
        raise ValueError("quantize_int8 expects calibration images: a non-empty (N, C, H, W) tensor or an "
                         f"iterable of them, got {type(calibration).__name__}")
    return batches


def _torchao():
    """torchao's PT2E functions, imported without its messages about kernels this CPU build cannot load."""
    loggers, stream = [logging.getLogger(name) for name in ("torch", "torchao")], io.StringIO()
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(stream), contextlib.redirect_stdout(stream):
            from torchao.quantization.pt2e import allow_exported_model_train_eval
            from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
            from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    return allow_exported_model_train_eval, convert_pt2e, prepare_pt2e, x86_inductor_quantizer


def quantize_int8(model: nn.Module, calibration: torch.Tensor | Iterable[torch.Tensor]) -> nn.Module:
    """An int8 copy of ``model`` (eval mode) by PT2E post-training quantization, calibrated on
    ``calibration`` (images as the model takes them: one batch, or an iterable of batches).

    The returned module is a ``torch.fx.GraphModule``; ``model`` itself is not changed (it is exported
    in eval mode and given back its mode).
    """
    check_module(model)
    batches = _calibration_batches(calibration)
    allow_exported_model_train_eval, convert_pt2e, prepare_pt2e, x86 = _torchao()
    quantizer = x86.X86InductorQuantizer().set_global(x86.get_default_x86_inductor_quantization_config())
    argument = next(iter(inspect.signature(model.forward).parameters))
    example = batches[0][:1].repeat(2, *([1] * (batches[0].dim() - 1)))  # two images: the batch stays dynamic
    was_training = model.training
    try:
        with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            graph = torch.export.export(model.eval(), (example,),
                                        dynamic_shapes={argument: {0: torch.export.Dim("batch")}}).module()
            prepared = prepare_pt2e(graph, quantizer)
            for batch in batches:
                prepared(batch)
            quantized = convert_pt2e(prepared)
    finally:
        model.train(was_training)
    # so that .eval() (which evaluate() and onnx_bytes call) is allowed on the exported graph
    allow_exported_model_train_eval(quantized)
    return quantized


__all__ = ["quantize_int8"]
