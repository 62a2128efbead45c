"""A readable training loop for every network in the book: ``fit`` and ``evaluate``.

One loop, written out, with what the papers train with: auxiliary heads whose losses are added with
weight 0.3 in training only (Szegedy et al. 2014, Sec. 5), label smoothing (Szegedy et al. 2016,
Sec. 7), SGD with momentum or Adam (Kingma & Ba 2015), and a learning-rate schedule. It also seeds
everything, shows a tqdm progress bar, returns a :class:`History`, and writes checkpoints (model state,
optimizer state, config dict, epoch) that a later ``fit(..., resume=True)`` continues from.

The same loop runs under ``torchrun`` with ``DistributedDataParallel`` (see ``inception.train``): it
calls ``sampler.set_epoch`` when the sampler has one, averages the training metrics over the processes,
and only process 0 writes checkpoints.

    >>> history = fit(model, train_loader, test_loader, epochs=5, lr=0.05)       # doctest: +SKIP
    >>> history.test_accuracy[-1]                                                 # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

from inception.layers import InceptionOutputs
from inception.losses import auxiliary_loss
from inception.validation import check_positive_int

OPTIMIZERS = ("sgd", "adam", "rmsprop")
SCHEDULES = (None, "cosine", "step")


@dataclass
class History:
    """What ``fit`` measured. Per epoch (lists of the same length as ``epoch``):

    - ``train_loss``, ``train_accuracy``: averaged over the epoch's training batches, as the network
      was changing (with augmentation, dropout and the auxiliary losses if any);
    - ``test_loss``, ``test_accuracy``: on the test loader after the epoch (``nan`` without one);
    - ``seconds``: time spent training in the epoch, evaluations excluded;
    - ``lr``: learning rate at the end of the epoch; ``steps``: optimizer steps done so far.

    With ``fit(..., eval_every=N)`` also, every N optimizer steps, ``eval_steps`` (the step) and
    ``eval_accuracy`` (test accuracy at that step): accuracy against steps.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_accuracy: list[float] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        """Training time over all epochs (evaluations excluded)."""
        return float(sum(self.seconds))

    @property
    def best_accuracy(self) -> float:
        """Best test accuracy seen, per epoch or per evaluation step."""
        seen = [a for a in self.test_accuracy + self.eval_accuracy if not math.isnan(a)]
        return max(seen) if seen else math.nan

    def to_dict(self) -> dict[str, list]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> History:
        return cls(**{k: list(v) for k, v in data.items()})

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        if not self.epoch:
            return "History(no epochs)"
        return (f"History({len(self)} epochs, last: train loss {self.train_loss[-1]:.4f}, "
                f"test accuracy {self.test_accuracy[-1]:.4f})")


def steps_to_reach(history: History, accuracy: float) -> int | None:
    """The first optimizer step at which the test accuracy reached ``accuracy`` (``None`` if never).

    Uses the per-step evaluations (``fit(..., eval_every=N)``) when there are any, else the per-epoch
    ones, where the step is the number of steps at the end of that epoch.
    """
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy}")
    pairs = (zip(history.eval_steps, history.eval_accuracy, strict=True) if history.eval_steps
             else zip(history.steps, history.test_accuracy, strict=True))
    for step, acc in pairs:
        if acc >= accuracy:
            return int(step)
    return None


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and every GPU)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _unwrap(model: nn.Module) -> nn.Module:
    """The network inside a ``DistributedDataParallel`` (or ``DataParallel``) wrapper."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel | nn.DataParallel) else model


def _distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def _is_main_process() -> bool:
    return not _distributed() or torch.distributed.get_rank() == 0


def _main_logits(outputs: torch.Tensor | InceptionOutputs) -> torch.Tensor:
    return outputs.logits if isinstance(outputs, InceptionOutputs) else outputs


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable, device: str | torch.device | None = None
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, classes) and targets (N,) of ``model`` in eval mode over ``loader``, on the CPU."""
    model = _unwrap(model)
    device = torch.device(device) if device is not None else _device_of(model)
    was_training = model.training
    model.eval()
    logits, targets = [], []
    try:
        for x, y in loader:
            logits.append(_main_logits(model(x.to(device))).float().cpu())
            targets.append(y.cpu())
    finally:
        model.train(was_training)
    return torch.cat(logits), torch.cat(targets)


def evaluate(model: nn.Module, loader: Iterable, device: str | torch.device | None = None) -> dict[str, float]:
    """Cross-entropy loss and accuracy of ``model`` in eval mode (no auxiliary heads) over ``loader``."""
    logits, targets = predict(model, loader, device)
    if targets.numel() == 0:
        raise ValueError("evaluate got an empty loader")
    return {"loss": F.cross_entropy(logits, targets).item(),
            "accuracy": (logits.argmax(1) == targets).float().mean().item()}


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def make_optimizer(model: nn.Module, optimizer: str = "sgd", lr: float = 0.05, momentum: float = 0.9,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """SGD with (heavy-ball) momentum, Adam (Kingma & Ba 2015), or RMSProp as in Szegedy et al. 2016,
    Sec. 8 (decay 0.9, ε = 1.0, with ``momentum``)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or math.isnan(value):
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if lr == 0:
        raise ValueError("lr must be > 0, got 0")
    params = model.parameters()
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1.0, momentum=momentum, weight_decay=weight_decay)


def lr_factor(schedule: str | None, step: int, total_steps: int) -> float:
    """The multiplier of the base learning rate after ``step`` of ``total_steps`` optimizer steps.

    ``None``: constant. ``"cosine"``: half a cosine from 1 down to 0 (Loshchilov & Hutter's SGDR without
    restarts). ``"step"``: ×0.1 after half of the steps and again after three quarters.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    t = min(step, total_steps) / max(total_steps, 1)
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * t))
    if schedule == "step":
        return 0.1 ** ((t >= 0.5) + (t >= 0.75))
    return 1.0


def save_checkpoint(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    epoch: int = 0, config: dict | None = None, **extra: Any) -> None:
    """Write ``{"model", "optimizer", "config", "epoch", ...extra}`` to ``path`` (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"model": _unwrap(model).state_dict(),
             "optimizer": optimizer.state_dict() if optimizer is not None else None,
             "config": dict(config or {}), "epoch": int(epoch), **extra}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike, model: nn.Module | None = None,
                    optimizer: torch.optim.Optimizer | None = None, map_location: str | torch.device = "cpu"
                    ) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; load its states into ``model``/``optimizer``
    when given. Returns the whole checkpoint dict (``config``, ``epoch``, ``history``, ...)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint at {str(path)!r}")
    state = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(state, dict) or "model" not in state or "epoch" not in state:
        raise ValueError(f"{str(path)!r} is not a checkpoint written by inception.training (keys: "
                         f"{sorted(state) if isinstance(state, dict) else type(state).__name__})")
    if model is not None:
        _unwrap(model).load_state_dict(state["model"])
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    return state


def _check_number(name: str, value: object, low: float, high: float | None = None, high_open: bool = False) -> float:
    ok = not isinstance(value, bool) and isinstance(value, int | float) and value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        bound = "" if high is None else (f" and < {high}" if high_open else f" and <= {high}")
        raise ValueError(f"{name} must be a number >= {low}{bound}, got {value!r}")
    return float(value)


def fit(model: nn.Module, train_loader: DataLoader, test_loader: DataLoader | None = None, epochs: int = 10,
        optimizer: str = "sgd", lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 0.0,
        schedule: str | None = None, aux_weight: float = 0.3, label_smoothing: float = 0.0, seed: int = 0,
        progress: bool = True, eval_every: int | None = None, checkpoint: str | os.PathLike | None = None,
        resume: bool = False, config: dict | None = None, device: str | torch.device = "cpu",
        callback: Callable[[History], None] | None = None) -> History:
    """Train ``model`` for ``epochs`` epochs; return a :class:`History`.

    Args:
        model: a network returning logits, or :class:`~inception.layers.InceptionOutputs` in training
            mode (auxiliary heads); may be wrapped in ``DistributedDataParallel``.
        train_loader, test_loader: batches of (images, labels); the test set is evaluated after every
            epoch (and every ``eval_every`` steps) in eval mode.
        epochs: the total number of epochs; a resumed run trains only those not done yet.
        optimizer, lr, momentum, weight_decay: ``"sgd"`` (with momentum), ``"adam"`` (momentum unused) or
            ``"rmsprop"``; weight decay is the L2 penalty.
        schedule: ``None`` (constant learning rate), ``"cosine"`` or ``"step"``, applied every
            optimizer step (see :func:`lr_factor`).
        aux_weight: weight of each auxiliary head's loss (0.3 in GoogLeNet); the heads only exist in
            training mode, so it never touches evaluation.
        label_smoothing: ε of label smoothing (0.1 in Szegedy et al. 2016), training loss only.
        seed: seeds Python, NumPy and PyTorch before training starts.
        progress: show a tqdm bar (on process 0 only). Notebooks pass ``False``.
        eval_every: also evaluate the test set every this many optimizer steps (accuracy against steps).
        checkpoint: file to write after every epoch (process 0 only): model state, optimizer state,
            ``config``, epoch, history, scheduler position and RNG state.
        resume: continue from ``checkpoint`` if that file exists (else start from scratch).
        config: a dict saved in the checkpoint, e.g. the network's configuration; a resumed run must
            have the same one.
        device: where to train (``"cpu"``, ``"cuda"``, ...).
        callback: called with the history after every epoch, on process 0 only (e.g. to write metrics).

    Returns the history, with the model in eval mode. With the same seed, model and loaders, two runs
    give the same history on the CPU, and a resumed run the same as one that was never stopped.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"fit expects a torch.nn.Module, got {type(model).__name__}")
    check_positive_int("epochs", epochs)
    if eval_every is not None:
        check_positive_int("eval_every", eval_every)
    _check_number("aux_weight", aux_weight, 0.0)
    _check_number("label_smoothing", label_smoothing, 0.0, 1.0, high_open=True)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if eval_every is not None and test_loader is None:
        raise ValueError("eval_every needs a test_loader to evaluate on")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs the checkpoint path to resume from")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {type(callback).__name__}")
    if config is not None and not isinstance(config, dict):
        raise ValueError(f"config must be a dict (it is saved in the checkpoint), got {type(config).__name__}")
    steps_per_epoch = len(train_loader)
    if steps_per_epoch == 0:
        raise ValueError("train_loader is empty")

    device = torch.device(device)
    seed_everything(seed)
    model.to(device)
    opt = make_optimizer(model, optimizer, lr, momentum, weight_decay)
    total_steps = epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(schedule, s, total_steps))
    history, start_epoch, step = History(), 0, 0

    if resume and Path(checkpoint).is_file():
        state = load_checkpoint(checkpoint, model, opt, map_location=device)
        if config is not None and state.get("config") not in ({}, None) and state["config"] != dict(config):
            raise ValueError(f"the checkpoint {str(checkpoint)!r} was written with config {state['config']}, "
                             f"not {config}; resume with the same configuration or start a new run")
        start_epoch = state["epoch"]
        history = History.from_dict(state["history"]) if "history" in state else History()
        step = state.get("step", start_epoch * steps_per_epoch)
        scheduler.load_state_dict(state["scheduler"]) if "scheduler" in state else None
        if "rng" in state:
            torch.set_rng_state(state["rng"])

    bar = None
    if progress and _is_main_process() and start_epoch < epochs:
        from tqdm.auto import tqdm

        bar = tqdm(total=(epochs - start_epoch) * steps_per_epoch, desc="training", unit="step")

    for epoch in range(start_epoch, epochs):
        sampler = getattr(train_loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        seen = torch.zeros((), device=device)
        eval_seconds = 0.0
        start = time.perf_counter()
        for x, y in train_loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            outputs = model(x)
            loss = auxiliary_loss(outputs, y, aux_weight=aux_weight, label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            scheduler.step()
            step += 1
            with torch.no_grad():
                loss_sum += loss.detach() * y.shape[0]
                correct += (_main_logits(outputs).argmax(1) == y).sum()
                seen += y.shape[0]
            if bar is not None:
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
            if eval_every is not None and step % eval_every == 0:
                t0 = time.perf_counter()
                history.eval_steps.append(step)
                history.eval_accuracy.append(evaluate(model, test_loader, device)["accuracy"])
                model.train()
                eval_seconds += time.perf_counter() - t0
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start - eval_seconds
        if _distributed():  # average the training metrics over all processes
            totals = torch.stack([loss_sum, correct.float(), seen.float()])
            torch.distributed.all_reduce(totals)
            loss_sum, correct, seen = totals
        test = evaluate(model, test_loader, device) if test_loader is not None else {"loss": math.nan,
                                                                                      "accuracy": math.nan}
        history.epoch.append(epoch + 1)
        history.train_loss.append((loss_sum / seen).item())
        history.train_accuracy.append((correct / seen).item())
        history.test_loss.append(test["loss"])
        history.test_accuracy.append(test["accuracy"])
        history.seconds.append(seconds)
        history.lr.append(opt.param_groups[0]["lr"])
        history.steps.append(step)
        if bar is not None:
            bar.set_postfix(epoch=epoch + 1, loss=f"{history.train_loss[-1]:.3f}",
                            test_acc=f"{test['accuracy']:.3f}")
        if checkpoint is not None and _is_main_process():
            save_checkpoint(checkpoint, model, opt, epoch + 1, config, history=history.to_dict(), step=step,
                            scheduler=scheduler.state_dict(), rng=torch.get_rng_state())
        if callback is not None and _is_main_process():
            callback(history)
    if bar is not None:
        bar.close()
    model.eval()
    return history


__all__ = ["History", "evaluate", "fit", "load_checkpoint", "lr_factor", "make_optimizer", "predict",
           "save_checkpoint", "seed_everything", "steps_to_reach"]
