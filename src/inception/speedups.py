"""Measuring what makes a trained network fast and small on a CPU (chapter 12, ``python -m inception.bench``).

Every figure is a median of timed runs after warm-up runs, taken in the same process as the baseline it
is divided by, so that a ratio compares like with like on the machine at hand. Absolute milliseconds
depend on the CPU and on what else it is doing; the ratios travel better, and even they change with the
CPU's vector instructions, its cores, and the network's size.
"""

from __future__ import annotations

import copy
import io
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from inception.deploy import fold_batch_norm
from inception.export import onnx_bytes
from inception.quantize import quantize_int8
from inception.recipes import DIGITS_RECIPES
from inception.validation import check_count, check_module, check_positive_int


def median_seconds(call: Callable[[], object], runs: int = 20, warmup: int = 3) -> float:
    """Median wall-clock seconds of ``call()`` over ``runs`` runs, after ``warmup`` untimed runs."""
    check_positive_int("runs", runs)
    check_count("warmup", warmup)
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        call()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def state_dict_bytes(model: nn.Module) -> int:
    """Size of ``torch.save(model.state_dict())``: the network's file on disk, everything it holds."""
    buffer = io.BytesIO()
    torch.save(check_module(model).state_dict(), buffer)
    return buffer.getbuffer().nbytes


#: Submodules that run only in training (the auxiliary heads of GoogLeNet and of Inception-v2).
TRAINING_ONLY = ("aux1.", "aux2.", "AuxLogits.")


def inference_bytes(model: nn.Module) -> int:
    """Size of ``torch.save`` of what the network reads in eval mode: its state dict without the
    auxiliary heads (:data:`TRAINING_ONLY`), and for a graph (an int8 ``GraphModule`` from
    :func:`~inception.quantize.quantize_int8`) only the tensors its graph reads. BN's running statistics,
    which eval mode reads, stay; its step counters (``num_batches_tracked``), which it does not, go. An
    ONNX file of the network holds the same numbers, so the sizes compare; ``torch.save`` adds a few
    hundred bytes per tensor, which weighs where a network has many small tensors (BN's)."""
    state = check_module(model).state_dict()
    graph = getattr(model, "graph", None)
    if graph is not None:
        read = {node.target for node in graph.nodes if node.op == "get_attr"}
        state = {name: tensor for name, tensor in state.items() if name in read}
    state = {name: tensor for name, tensor in state.items()
             if not name.startswith(TRAINING_ONLY) and not name.endswith("num_batches_tracked")}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getbuffer().nbytes


def onnx_session(data: bytes, threads: int = 1):
    """An ONNX Runtime CPU session for an ``.onnx`` file's bytes, on ``threads`` threads."""
    import onnxruntime

    if not isinstance(data, bytes | bytearray):
        raise ValueError(f"onnx_session expects the bytes of an .onnx file, got {type(data).__name__}")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = check_positive_int("threads", threads)
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(bytes(data), options, providers=["CPUExecutionProvider"])


@dataclass
class Deployment:
    """One way of running the network: its size on disk, its latency on one image, its test accuracy."""

    name: str
    size_bytes: int
    latency_s: float
    accuracy: float
    predict: Callable[[torch.Tensor], torch.Tensor]


def _accuracy(predict: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, labels: torch.Tensor) -> float:
    return (predict(images).argmax(1) == labels).double().mean().item()


def _torch_predict(model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    model.eval()

    def predict(images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model(images)
    return predict


def _onnx_predict(data: bytes, threads: int) -> Callable[[torch.Tensor], torch.Tensor]:
    session = onnx_session(data, threads)
    name = session.get_inputs()[0].name

    def predict(images: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {name: images.numpy()})[0])
    return predict


def _check_images(images: object, labels: object) -> None:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not isinstance(labels, torch.Tensor) \
            or labels.shape != images.shape[:1]:
        raise ValueError("expected test images (N, C, H, W) and their labels (N,), got "
                         f"{getattr(images, 'shape', type(images).__name__)} and "
                         f"{getattr(labels, 'shape', type(labels).__name__)}")


def deployments(model: nn.Module, calibration: torch.Tensor, images: torch.Tensor, labels: torch.Tensor,
                runs: int = 20, threads: int = 1, *, folded: nn.Module | None = None,
                quantized: nn.Module | None = None, exported: dict[str, bytes] | None = None) -> list[Deployment]:
    """The same trained network run five ways, each measured on ``images`` (accuracy), on one image
    (latency, ``threads`` threads) and by its size on disk for inference (:func:`inference_bytes` for
    PyTorch, the file for ONNX); ``model`` is left in the mode it was in:

    - ``pytorch``: the network as trained, in eval mode (the baseline);
    - ``pytorch, BN folded``: :func:`~inception.deploy.fold_batch_norm`;
    - ``pytorch, int8``: :func:`~inception.quantize.quantize_int8` calibrated on ``calibration``;
    - ``onnxruntime``: the folded network exported to ONNX (:func:`~inception.export.onnx_bytes`);
    - ``onnxruntime, int8``: the int8 network exported to ONNX.

    ``folded``, ``quantized`` and ``exported`` (ONNX files by row name) may be given when the caller has
    already made them from ``model`` (as chapter 12 has); they are made here otherwise.
    """
    check_module(model)
    _check_images(images, labels)
    check_positive_int("threads", threads)
    previous, was_training = torch.get_num_threads(), model.training
    torch.set_num_threads(threads)
    try:
        folded = fold_batch_norm(model) if folded is None else check_module(folded)
        quantized = quantize_int8(model, calibration) if quantized is None else check_module(quantized)
        exported = dict(exported or {})
        example = images[:1]
        variants = [
            ("pytorch", inference_bytes(model), _torch_predict(model)),
            ("pytorch, BN folded", inference_bytes(folded), _torch_predict(folded)),
            ("pytorch, int8", inference_bytes(quantized), _torch_predict(quantized)),
        ]
        for name, source in (("onnxruntime", folded), ("onnxruntime, int8", quantized)):
            data = exported[name] if name in exported else onnx_bytes(source, example)
            variants.append((name, len(data), _onnx_predict(data, threads)))
        return [Deployment(name, size, median_seconds(lambda p=predict: p(example), runs=runs),
                           _accuracy(predict, images, labels), predict) for name, size, predict in variants]
    finally:
        torch.set_num_threads(previous)
        model.train(was_training)


def throughput(model: nn.Module, image_size: tuple[int, int, int], batch_sizes: Sequence[int],
               threads: Sequence[int] = (1, 2), channels_last: bool = False, runs: int = 5
               ) -> dict[int, list[float]]:
    """Images per second of ``model`` in eval mode, for each number of threads and each batch size:
    ``{threads: [images/s for each batch size]}``; with ``channels_last`` the model and the images are
    in that memory layout (on a copy of ``model``, run in eval mode; ``model`` itself is not changed)."""
    check_module(model)
    if not batch_sizes or not threads:
        raise ValueError("throughput expects at least one batch size and one thread count")
    for value in (*batch_sizes, *threads):
        check_positive_int("batch size and threads", value)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = copy.deepcopy(model).eval().to(memory_format=layout)
    previous = torch.get_num_threads()
    results: dict[int, list[float]] = {}
    try:
        for count in threads:
            torch.set_num_threads(count)
            results[count] = []
            for batch in batch_sizes:
                x = torch.randn(batch, *image_size).contiguous(memory_format=layout)
                with torch.no_grad():
                    seconds = median_seconds(lambda x=x: model(x), runs=runs, warmup=1)
                results[count].append(batch / seconds)
    finally:
        torch.set_num_threads(previous)
    return results


def digits_tensors(seed: int = 0, calibration_size: int = 256) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Chapter 10's Inception-v2 digits as tensors, as chapter 12 takes them: the first
    ``calibration_size`` training images (for int8 calibration), and the test images and labels."""
    check_positive_int("calibration_size", calibration_size)
    train, test = DIGITS_RECIPES["inception_v2"].loaders(seed=seed)
    return train.dataset.images[:calibration_size], test.dataset.images, test.dataset.labels


def deployment_table(rows: Sequence[Deployment]) -> str:
    """The rows as a table, each against the first: how much smaller and how much faster."""
    if not rows:
        raise ValueError("deployment_table expects at least one Deployment")
    base = rows[0]
    lines = [f"{'':20} {'size':>9} {'smaller':>8} {'latency':>10} {'faster':>7} {'accuracy':>9}"]
    for r in rows:
        lines.append(f"{r.name:20} {r.size_bytes / 1e6:>7.2f}MB {base.size_bytes / r.size_bytes:>7.2f}× "
                     f"{r.latency_s * 1e3:>8.3f}ms {base.latency_s / r.latency_s:>6.2f}× {r.accuracy:>9.2%}")
    return "\n".join(lines)


def layout_and_threads(model: nn.Module, image_size: tuple[int, int, int], batch: int, runs: int = 5
                       ) -> dict[str, float]:
    """Images per second of ``model`` on batches of ``batch``: on 1 thread, on 2 threads, and in
    ``channels_last`` on 1 thread; with the two ratios against 1 thread in the default layout."""
    plain = throughput(model, image_size, [batch], threads=(1, 2), runs=runs)
    last = throughput(model, image_size, [batch], threads=(1,), channels_last=True, runs=runs)
    return {"1 thread": plain[1][0], "2 threads": plain[2][0], "channels_last": last[1][0],
            "2 threads / 1": plain[2][0] / plain[1][0], "channels_last / default": last[1][0] / plain[1][0]}


def max_difference(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """The largest absolute difference between two outputs (tensors or arrays of the same shape)."""
    a, b = (torch.as_tensor(np.asarray(t.detach() if isinstance(t, torch.Tensor) else t)) for t in (a, b))
    if a.shape != b.shape:
        raise ValueError(f"max_difference expects outputs of the same shape, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    return (a.double() - b.double()).abs().max().item()


__all__ = ["Deployment", "deployment_table", "deployments", "digits_tensors", "layout_and_threads",
           "inference_bytes", "max_difference", "median_seconds", "onnx_session", "state_dict_bytes", "throughput"]
