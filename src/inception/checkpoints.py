"""Checkpoints of the command-line trainer (:mod:`inception.train`): save, load, and resume a run.

A checkpoint is one file holding the model's and the optimizer's state, the run's configuration, the
epoch, and (when written by the trainer) the history, the scheduler's position and the random-number
generator's state, so that a resumed run continues exactly as if it had never stopped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inception.history import History
from inception.validation import check_count


def save_checkpoint(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    epoch: int = 0, config: dict | None = None, **extra: Any) -> None:
    """Write ``{"model", "optimizer", "config", "epoch", ...extra}`` to ``path`` (atomically)."""
    check_count("epoch", epoch)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict() if optimizer is not None else None,
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
        raise ValueError(f"{str(path)!r} is not a checkpoint written by inception.train (keys: "
                         f"{sorted(state) if isinstance(state, dict) else type(state).__name__})")
    if model is not None:
        model.load_state_dict(state["model"])
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    return state


def resume_from(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer,
                scheduler: torch.optim.lr_scheduler.LRScheduler, config: dict | None, device: torch.device
                ) -> History:
    """Load a checkpoint's model, optimizer, scheduler and random-generator states; return its history.
    A run resumes only with the ``config`` it was written with (``None``: any)."""
    state = load_checkpoint(path, model, optimizer, map_location=device)
    missing = [key for key in ("history", "scheduler", "rng") if key not in state]
    if missing:
        raise ValueError(f"{str(path)!r} cannot be resumed from: it has no {missing} (it was not written by train)")
    if config is not None and state["config"] not in ({}, dict(config)):
        raise ValueError(f"the checkpoint {str(path)!r} was written with config {state['config']}, not {config}; "
                         "resume with the same configuration or start a new run")
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"])  # the shuffling of the next epochs, as if never stopped
    return History.from_dict(state["history"])
