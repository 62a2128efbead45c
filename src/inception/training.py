"""The book's training loop: ``fit``, with ``train_one_epoch`` and ``evaluate`` as its two steps.

One loop, written out, with what the papers train with: auxiliary heads whose losses are added with
weight 0.3 in training only (Szegedy et al. 2014, Sec. 5), label smoothing (Szegedy et al. 2016,
Sec. 7), SGD with momentum, Adam (Kingma & Ba 2015) or RMSProp (Szegedy et al. 2016, Sec. 8), and a
learning-rate schedule. ``fit`` seeds everything first, so the same seed, model and loaders give the
same :class:`History` on the CPU.

    >>> history = fit(model, train_loader, test_loader, epochs=5, lr=0.05)       # doctest: +SKIP
    >>> history.test_accuracy[-1]                                                 # doctest: +SKIP

Long runs (several processes, checkpoints, resuming, a progress bar) are the command-line trainer's
business: ``python -m inception.train`` reuses :func:`train_one_epoch` and :func:`evaluate`.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from inception.history import History
from inception.layers import InceptionOutputs
from inception.losses import auxiliary_loss
from inception.validation import (
    check_choice,
    check_count,
    check_module,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_probability,
)

OPTIMIZERS = ("sgd", "adam", "rmsprop")
SCHEDULES = (None, "cosine", "step")


def steps_to_reach(history: History, accuracy: float) -> int | None:
    """The first optimizer step at which the test accuracy reached ``accuracy`` (``None`` if never).

    Uses the per-step evaluations (``fit(..., eval_every=N)``) when there are any, else the per-epoch
    ones, where the step is the number of steps at the end of that epoch.
    """
    if not isinstance(history, History):
        raise ValueError(f"steps_to_reach expects a History, got {type(history).__name__}")
    if isinstance(accuracy, bool) or not isinstance(accuracy, int | float) or not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy!r}")
    pairs = (zip(history.eval_steps, history.eval_accuracy, strict=True) if history.eval_steps
             else zip(history.steps, history.test_accuracy, strict=True))
    for step, acc in pairs:
        if acc >= accuracy:
            return int(step)
    return None


def check_training_settings(optimizer: str = "sgd", lr: float = 0.05, momentum: float = 0.9,
                            weight_decay: float = 0.0, schedule: str | None = None, aux_weight: float = 0.3,
                            label_smoothing: float = 0.0) -> None:
    """Raise a ``ValueError`` unless every setting is one ``fit`` accepts (the names are ``fit``'s)."""
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_choice("schedule", schedule, SCHEDULES)
    check_positive("lr", lr)
    check_non_negative("momentum", momentum)
    check_non_negative("weight_decay", weight_decay)
    check_non_negative("aux_weight", aux_weight)
    check_probability("label_smoothing", label_smoothing)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and every GPU)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_optimizer(model: nn.Module, optimizer: str = "sgd", lr: float = 0.05, momentum: float = 0.9,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """SGD with (heavy-ball) momentum, Adam (Kingma & Ba 2015, ``momentum`` unused), or PyTorch's RMSprop
    with the paper's settings (Szegedy et al. 2016, Sec. 8: decay 0.9, ε = 1.0, with ``momentum``);
    ``weight_decay`` is the L2 penalty. PyTorch's RMSprop is not TensorFlow's, which the paper used: it
    adds ε outside the square root (TensorFlow inside) and starts the mean square at 0 (TensorFlow at 1);
    chapter 11 writes TensorFlow's step out.

    All three use PyTorch's multi-tensor (``foreach``) implementation, its default on GPUs: on a CPU it
    computes the same numbers as the per-parameter loop, bit for bit (``tests/test_training.py`` checks),
    and a step of GoogLeNet with BN, with its hundreds of parameter tensors, takes about 15% less time."""
    check_module(model)
    check_training_settings(optimizer, lr, momentum, weight_decay)
    params = model.parameters()
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, foreach=True)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, foreach=True)
    return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1.0, momentum=momentum, weight_decay=weight_decay,
                               foreach=True)


def lr_factor(schedule: str | None, step: int, total_steps: int) -> float:
    """The multiplier of the base learning rate after ``step`` of ``total_steps`` optimizer steps.

    ``None``: constant. ``"cosine"``: half a cosine from 1 down to 0 (Loshchilov & Hutter's SGDR without
    restarts). ``"step"``: ×0.1 after half of the steps and again after three quarters.
    """
    check_choice("schedule", schedule, SCHEDULES)
    check_count("step", step)
    check_positive_int("total_steps", total_steps)
    t = min(step, total_steps) / total_steps
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * t))
    if schedule == "step":
        return 0.1 ** ((t >= 0.5) + (t >= 0.75))
    return 1.0


def make_scheduler(optimizer: torch.optim.Optimizer, schedule: str | None, total_steps: int
                   ) -> torch.optim.lr_scheduler.LambdaLR:
    """A scheduler that sets the learning rate to base × :func:`lr_factor` after every optimizer step."""
    lr_factor(schedule, 0, total_steps)  # checks the arguments
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(schedule, step, total_steps))


def as_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...), or a ``ValueError``."""
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be a torch.device or a name like 'cpu' or 'cuda', got {device!r}") from None


def _main_logits(outputs: torch.Tensor | InceptionOutputs) -> torch.Tensor:
    return outputs.logits if isinstance(outputs, InceptionOutputs) else outputs


def _check_model_and_loader(model: object, loader: object, caller: str) -> None:
    if not isinstance(model, nn.Module):
        raise ValueError(f"{caller} expects a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(loader, Iterable):
        raise ValueError(f"{caller} expects a loader of (images, labels) batches, got {type(loader).__name__}")


def train_one_epoch(model: nn.Module, loader: Iterable, optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None, aux_weight: float = 0.3,
                    label_smoothing: float = 0.0, device: str | torch.device = "cpu",
                    after_step: Callable[[], None] | None = None) -> dict[str, float]:
    """One pass over ``loader`` in training mode: forward, loss, backward, optimizer and schedule step.

    The loss is :func:`~inception.losses.auxiliary_loss`: the main cross-entropy plus ``aux_weight`` times
    that of each auxiliary head, all with ``label_smoothing``. ``after_step()``, if given, runs after
    every optimizer step (``fit`` evaluates there); its time is not counted.

    Returns the epoch's mean ``loss`` and ``accuracy`` over its ``images``, its ``steps`` and ``seconds``.
    """
    _check_model_and_loader(model, loader, "train_one_epoch")
    check_training_settings(aux_weight=aux_weight, label_smoothing=label_smoothing)
    device = as_device(device)
    model.train()
    loss_sum, correct, images = (torch.zeros((), device=device) for _ in range(3))
    steps, paused, start = 0, 0.0, time.perf_counter()
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        outputs = model(x)  # logits, or InceptionOutputs(logits, aux_logits) in training mode
        loss = auxiliary_loss(outputs, y, aux_weight=aux_weight, label_smoothing=label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        steps += 1
        with torch.no_grad():
            loss_sum += loss.detach() * y.shape[0]
            correct += (_main_logits(outputs).argmax(1) == y).sum()
            images += y.shape[0]
        if after_step is not None:
            pause = time.perf_counter()
            after_step()
            paused += time.perf_counter() - pause
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    if steps == 0:
        raise ValueError("train_one_epoch got an empty loader")
    return {"loss": (loss_sum / images).item(), "accuracy": (correct / images).item(),
            "images": int(images.item()), "steps": steps, "seconds": time.perf_counter() - start - paused}


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable, device: str | torch.device | None = None
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, classes) and targets (N,) of ``model`` in eval mode over ``loader``, on the CPU.

    Runs on ``device``, by default where the model's parameters are; leaves the model in the mode it was.
    """
    _check_model_and_loader(model, loader, "predict")
    if device is None:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
    device = as_device(device)
    was_training = model.training
    model.eval()  # no auxiliary heads, no dropout, BN with its running statistics
    logits, targets = [], []
    try:
        for x, y in loader:
            logits.append(_main_logits(model(x.to(device))).float().cpu())
            targets.append(y.cpu())
    finally:
        model.train(was_training)
    if not logits:
        raise ValueError("predict got an empty loader")
    return torch.cat(logits), torch.cat(targets)


def evaluate(model: nn.Module, loader: Iterable, device: str | torch.device | None = None) -> dict[str, float]:
    """Cross-entropy ``loss`` and ``accuracy`` of ``model`` in eval mode (no auxiliary heads) over ``loader``."""
    logits, targets = predict(model, loader, device)
    return {"loss": F.cross_entropy(logits, targets).item(),
            "accuracy": (logits.argmax(1) == targets).float().mean().item()}


def _evaluate_every(eval_every: int | None, model: nn.Module, test_loader: Iterable, history: History,
                    device: torch.device) -> Callable[[], None] | None:
    """For ``fit(..., eval_every=N)``: a function to call after every optimizer step that records the
    test accuracy in ``history`` every N steps."""
    if eval_every is None:
        return None
    steps = itertools.count(1)

    def after_step() -> None:
        step = next(steps)
        if step % eval_every == 0:
            history.eval_steps.append(step)
            history.eval_accuracy.append(evaluate(model, test_loader, device)["accuracy"])

    return after_step


def _check_fit_arguments(model: object, train_loader: object, test_loader: object, epochs: object,
                         eval_every: object, callback: object) -> None:
    _check_model_and_loader(model, train_loader, "fit")
    if test_loader is not None and not isinstance(test_loader, Iterable):
        raise ValueError(f"test_loader must be a loader of (images, labels) batches or None, got "
                         f"{type(test_loader).__name__}")
    check_positive_int("epochs", epochs)
    if eval_every is not None:
        check_positive_int("eval_every", eval_every)
        if test_loader is None:
            raise ValueError("eval_every needs a test_loader to evaluate on")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {type(callback).__name__}")
    if len(train_loader) == 0:
        raise ValueError("train_loader is empty")


def start_run(model: nn.Module, optimizer: str, lr: float, momentum: float, weight_decay: float,
              schedule: str | None, total_steps: int, seed: int, device: str | torch.device
              ) -> tuple[torch.device, torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """The start of every training run: seed, move the model, build its optimizer and schedule."""
    device = as_device(device)
    seed_everything(seed)
    model.to(device)
    opt = make_optimizer(model, optimizer, lr, momentum, weight_decay)
    return device, opt, make_scheduler(opt, schedule, total_steps)


def fit(model: nn.Module, train_loader: Iterable, test_loader: Iterable | None = None, epochs: int = 10,
        optimizer: str = "sgd", lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 0.0,
        schedule: str | None = None, aux_weight: float = 0.3, label_smoothing: float = 0.0, seed: int = 0,
        eval_every: int | None = None, callback: Callable[[History], None] | None = None,
        device: str | torch.device = "cpu") -> History:
    """Train ``model`` for ``epochs`` epochs; return a :class:`History`, with the model in eval mode.

    Args:
        model: a network returning logits, or :class:`~inception.layers.InceptionOutputs` in training
            mode (auxiliary heads).
        train_loader, test_loader: batches of (images, labels); the test set (if any) is evaluated in
            eval mode after every epoch, and every ``eval_every`` optimizer steps if that is given.
        optimizer, lr, momentum, weight_decay: see :func:`make_optimizer`.
        schedule: ``None`` (constant learning rate), ``"cosine"`` or ``"step"``, applied every
            optimizer step (see :func:`lr_factor`).
        aux_weight: weight of each auxiliary head's loss (0.3 in GoogLeNet); the heads only run in
            training mode, so it never touches evaluation.
        label_smoothing: ε of label smoothing (0.1 in Szegedy et al. 2016), training loss only.
        seed: seeds Python, NumPy and PyTorch before training starts (the shuffling of the batches too).
        callback: called with the history after every epoch (to watch or stop a run: an exception
            raised there ends ``fit``).
        device: where to train (``"cpu"``, ``"cuda"``, ...).
    """
    _check_fit_arguments(model, train_loader, test_loader, epochs, eval_every, callback)
    check_training_settings(optimizer, lr, momentum, weight_decay, schedule, aux_weight, label_smoothing)
    device, opt, scheduler = start_run(model, optimizer, lr, momentum, weight_decay, schedule,
                                       epochs * len(train_loader), seed, device)
    history = History()
    after_step = _evaluate_every(eval_every, model, test_loader, history, device)
    for _ in range(epochs):
        train = train_one_epoch(model, train_loader, opt, scheduler, aux_weight, label_smoothing, device, after_step)
        test = evaluate(model, test_loader, device) if test_loader is not None else None
        history.add_epoch(train, test, lr=opt.param_groups[0]["lr"])
        if callback is not None:
            callback(history)
    model.eval()
    return history


__all__ = ["OPTIMIZERS", "SCHEDULES", "History", "as_device", "check_training_settings", "evaluate", "fit",
           "lr_factor", "make_optimizer", "make_scheduler", "predict", "seed_everything", "steps_to_reach",
           "train_one_epoch"]
