"""Figures of a training run: curves, confusion matrix, misclassified digits, feature maps.

Every function returns a matplotlib ``Figure``; in a notebook, end the cell with ``plt.show()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch import nn

from inception.data import CLASSES
from inception.history import History
from inception.training import predict
from inception.validation import check_flag, check_module, check_positive_int


def _histories(history: History | Mapping[str, History]) -> dict[str, History]:
    if isinstance(history, History):
        return {"": history}
    if isinstance(history, Mapping) and history and all(isinstance(h, History) for h in history.values()):
        return dict(history)
    raise ValueError(f"expected a History or a dict of name -> History, got {type(history).__name__}")


def training_curves(history: History | Mapping[str, History], steps: bool = False) -> Figure:
    """Loss and accuracy per epoch, training (dashed) and test (solid), for one run or several.

    ``steps=True`` plots instead the test accuracy against optimizer steps recorded with
    ``fit(..., eval_every=N)``.
    """
    runs = _histories(history)
    if check_flag("steps", steps):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for name, h in runs.items():
            if not h.eval_steps:
                raise ValueError(f"run {name!r} has no per-step evaluations; train with fit(..., eval_every=N)")
            ax.plot(h.eval_steps, h.eval_accuracy, label=name or "test")
        ax.set(xlabel="optimizer step", ylabel="test accuracy", title="Test accuracy against steps")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        return fig
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
    for i, (name, h) in enumerate(runs.items()):
        color = f"C{i}"
        prefix = f"{name}: " if name else ""
        loss_ax.plot(h.epoch, h.train_loss, "--", marker=".", color=color, label=f"{prefix}train")
        loss_ax.plot(h.epoch, h.test_loss, "-", marker=".", color=color, label=f"{prefix}test")
        acc_ax.plot(h.epoch, h.train_accuracy, "--", marker=".", color=color, label=f"{prefix}train")
        acc_ax.plot(h.epoch, h.test_accuracy, "-", marker=".", color=color, label=f"{prefix}test")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy", title="Loss", yscale="log")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs: no tick at 1.5
    acc_ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def confusion(targets: torch.Tensor, predictions: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    check_positive_int("num_classes", num_classes)
    if not isinstance(targets, torch.Tensor) or not isinstance(predictions, torch.Tensor):
        raise ValueError(f"expected targets and predictions as tensors, got {type(targets).__name__} and "
                         f"{type(predictions).__name__}")
    if targets.shape != predictions.shape or targets.dim() != 1:
        raise ValueError(f"expected targets and predictions of the same shape (N,), got {tuple(targets.shape)} "
                         f"and {tuple(predictions.shape)}")
    both = torch.cat([targets, predictions])
    if both.numel() and (both.min() < 0 or both.max() >= num_classes):
        raise ValueError(f"expected classes 0 to {num_classes - 1}, got targets and predictions from "
                         f"{int(both.min())} to {int(both.max())}")
    index = targets.long() * num_classes + predictions.long()
    return torch.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def confusion_matrix(targets: torch.Tensor, predictions: torch.Tensor, classes: Sequence[str] = CLASSES,
                     title: str = "Confusion matrix") -> Figure:
    """The confusion matrix as an image with the counts written in; the diagonal is what is right."""
    if isinstance(classes, str) or not isinstance(classes, Sequence) or not classes:
        raise ValueError(f"classes must be a list of class names, e.g. CLASSES, got {classes!r}")
    matrix = confusion(targets, predictions, len(classes))
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.imshow(matrix.numpy(), cmap="Blues")
    for i in range(len(classes)):
        for j in range(len(classes)):
            if matrix[i, j]:
                color = "white" if matrix[i, j] > matrix.max() / 2 else "black"
                ax.text(j, i, int(matrix[i, j]), ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def misclassified(model: nn.Module, loader, n: int = 12, device: str | None = None) -> Figure:
    """Up to ``n`` test images the model gets wrong, titled "true → predicted"."""
    check_positive_int("n", n)
    logits, targets = predict(model, loader, device)
    predictions = logits.argmax(1)
    wrong = (predictions != targets).nonzero().flatten()[:n].tolist()
    dataset = loader.dataset
    cols = max(1, min(6, len(wrong)))
    rows = max(1, math.ceil(len(wrong) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.8 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong, strict=False):
        ax.imshow(dataset[i][0][0].numpy(), cmap="gray_r")
        ax.set_title(f"{int(targets[i])} → {int(predictions[i])}", fontsize=9)
    fig.suptitle(f"{len(wrong)} misclassified test images (true → predicted)" if wrong else "No mistakes")
    fig.tight_layout()
    return fig


def feature_maps(model: nn.Module, image: torch.Tensor, layers: Sequence[str], channels: int = 8) -> dict[str,
                                                                                                      torch.Tensor]:
    """The outputs of the named submodules on one image (C, H, W), caught with forward hooks, in eval mode."""
    check_module(model)
    check_positive_int("channels", channels)
    if isinstance(layers, str) or not all(isinstance(name, str) for name in layers):
        raise ValueError(f"layers must be a list of submodule names, e.g. ['inception3a'], got {layers!r}")
    if not isinstance(image, torch.Tensor) or image.dim() != 3:
        raise ValueError(f"expected one image of shape (C, H, W), got "
                         f"{tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__}")
    modules = dict(model.named_modules())
    missing = [name for name in layers if name not in modules]
    if missing:
        raise ValueError(f"model has no submodule named {missing}; some it has: {list(modules)[1:12]}")
    caught: dict[str, torch.Tensor] = {}
    hooks = [modules[name].register_forward_hook(
        lambda _m, _i, out, name=name: caught.__setitem__(name, out.detach()[0])) for name in layers]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            p = next(model.parameters(), None)
            model(image.unsqueeze(0).to(p.device if p is not None else "cpu"))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return {name: caught[name][:channels].cpu() for name in layers}


def plot_feature_maps(model: nn.Module, image: torch.Tensor, layers: Sequence[str], channels: int = 8) -> Figure:
    """The input image, then the first ``channels`` feature maps of each named layer, one row per layer."""
    maps = feature_maps(model, image, layers, channels)
    fig, axes = plt.subplots(len(layers), channels + 1, figsize=(1.3 * (channels + 1), 1.4 * len(layers)),
                             squeeze=False)
    for row, (name, fmap) in enumerate(maps.items()):
        axes[row, 0].imshow(image[0].cpu().numpy(), cmap="gray_r") if row == 0 else None
        axes[row, 0].set_title("input" if row == 0 else "", fontsize=8)
        axes[row, 1].set_title(f"{name} ({tuple(fmap.shape[-2:])[0]}×{tuple(fmap.shape[-2:])[1]})", fontsize=8,
                               loc="left")
        for col in range(channels):
            ax = axes[row, col + 1]
            if col < fmap.shape[0]:
                ax.imshow(fmap[col].numpy(), cmap="viridis")
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
    fig.tight_layout()
    return fig


__all__ = ["confusion", "confusion_matrix", "feature_maps", "misclassified", "plot_feature_maps",
           "training_curves"]
