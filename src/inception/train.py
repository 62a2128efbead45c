"""Train a network of the book from the command line, on one process or many: ``python -m inception.train``.

The chapters' code (``inception.data``, ``inception.recipes``, and ``inception.training``'s epoch), with
the choices as flags, and what a long run needs besides: checkpoints, resuming, a progress bar, and
several processes. Chapter 10's recipes are one flag away; any other flag given overrides the recipe's
value, and ``--config`` is merged into the recipe's network settings::

    python -m inception.train --recipe inception_v2 --out runs/v2
    python -m inception.train --recipe inception_v2 --config '{"width": 0.5}' --lr 0.001 --out runs/v2-wide

writes ``runs/v2/checkpoint.pt`` (model state, optimizer state, config dict, epoch, history, scheduler and
random-generator state) after every epoch, and ``runs/v2/metrics.json`` and ``metrics.csv``.
``--resume`` continues from the checkpoint, as if the run had never stopped.

Unchanged under ``torchrun`` with ``DistributedDataParallel``::

    torchrun --standalone --nproc_per_node 2 -m inception.train --model inception_v2 ... --out runs/v2

Each process reads ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` from the environment torchrun sets,
joins the process group (gloo on CPU, NCCL on GPUs), trains on its own share of every epoch (a
``DistributedSampler``, reshuffled each epoch with ``set_epoch``), and DDP averages the gradients; the
training metrics are summed over the processes, and only process 0 writes files. ``--batch-size`` is
per process: the global batch is ``batch size × processes``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inception.checkpoints import load_checkpoint, resume_from, save_checkpoint
from inception.data import digits_loaders
from inception.history import History
from inception.recipes import (
    DEFAULT_IMAGE_SIZE,
    DIGITS_RECIPES,
    INPUT_SETTINGS,
    NETWORKS,
    TRAINING_SETTINGS,
    build_model,
)
from inception.training import (
    OPTIMIZERS,
    SCHEDULES,
    as_device,
    evaluate,
    seed_everything,
    start_run,
    train_one_epoch,
)
from inception.validation import check_flag, check_module, check_positive_int


def is_main_process() -> bool:
    """True on one process, and on process 0 of a distributed run."""
    return not _distributed() or torch.distributed.get_rank() == 0


def _distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def all_reduce_metrics(metrics: dict[str, float], device: torch.device) -> dict[str, float]:
    """The training loss and accuracy of one epoch over all processes (weighted by their images)."""
    if not _distributed():
        return metrics
    n = metrics["images"]
    totals = torch.tensor([metrics["loss"] * n, metrics["accuracy"] * n, n], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(totals)
    loss, correct, images = totals.tolist()
    return dict(metrics, loss=loss / images, accuracy=correct / images, images=int(images))


def train(model: nn.Module, train_loader: torch.utils.data.DataLoader, test_loader: torch.utils.data.DataLoader,
          epochs: int = 10, optimizer: str = "sgd", lr: float = 0.05, momentum: float = 0.9,
          weight_decay: float = 0.0, schedule: str | None = None, aux_weight: float = 0.3,
          label_smoothing: float = 0.0, seed: int = 0, device: str | torch.device = "cpu",
          checkpoint: str | os.PathLike | None = None, resume: bool = False, config: dict | None = None,
          progress: bool = True, callback: Callable[[History], None] | None = None) -> History:
    """``inception.training.fit``'s loop for long runs: the same epochs (``train_one_epoch``, then
    ``evaluate``) and settings, plus a checkpoint after every epoch (to ``checkpoint``, with ``config``
    saved in it), ``resume`` from it, a tqdm bar, and ``DistributedDataParallel`` (``model`` may be
    wrapped in it). ``callback(history)`` runs after every epoch on process 0."""
    _check_train_arguments(model, epochs, checkpoint, resume, config, progress, callback)
    network = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    device, opt, scheduler = start_run(model, optimizer, lr, momentum, weight_decay, schedule,
                                       epochs * len(train_loader), seed, device)
    history = History()
    if resume and Path(checkpoint).is_file():
        history = resume_from(checkpoint, network, opt, scheduler, config, device)
    bar = _progress_bar((epochs - len(history)) * len(train_loader), enabled=progress and is_main_process())
    for epoch in range(len(history), epochs):
        _set_epoch(train_loader, epoch)
        metrics = train_one_epoch(model, train_loader, opt, scheduler, aux_weight, label_smoothing, device,
                                  after_step=bar.update if bar is not None else None)
        history.add_epoch(all_reduce_metrics(metrics, device), evaluate(network, test_loader, device),
                          lr=opt.param_groups[0]["lr"])
        if bar is not None:
            bar.set_postfix(epoch=epoch + 1, loss=f"{metrics['loss']:.3f}", test_acc=f"{history.test_accuracy[-1]:.3f}")
        if is_main_process():
            _end_of_epoch(history, checkpoint, network, opt, scheduler, config, callback)
    if bar is not None:
        bar.close()
    network.eval()
    return history


def _check_train_arguments(model: object, epochs: object, checkpoint: object, resume: object, config: object,
                           progress: object, callback: object) -> None:
    check_module(model)
    check_positive_int("epochs", epochs)
    check_flag("progress", progress)
    if check_flag("resume", resume) and checkpoint is None:
        raise ValueError("resume=True needs the checkpoint path to resume from")
    if config is not None and not isinstance(config, dict):
        raise ValueError(f"config must be a dict (it is saved in the checkpoint), got {type(config).__name__}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {type(callback).__name__}")


def _set_epoch(loader: torch.utils.data.DataLoader, epoch: int) -> None:
    """A ``DistributedSampler`` shuffles by its seed plus the epoch: the same order on every process."""
    sampler = getattr(loader, "sampler", None)
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)


def _progress_bar(total: int, enabled: bool):
    if not enabled or total <= 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="training", unit="step")


def _end_of_epoch(history: History, checkpoint: str | os.PathLike | None, model: nn.Module,
                  optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler,
                  config: dict | None, callback: Callable[[History], None] | None) -> None:
    if checkpoint is not None:
        save_checkpoint(checkpoint, model, optimizer, len(history), config, history=history.to_dict(),
                        scheduler=scheduler.state_dict(), rng=torch.get_rng_state())
    if callback is not None:
        callback(history)


def write_metrics(out: Path, history: History, run: dict) -> None:
    """``metrics.json`` (the run's settings and the whole history) and ``metrics.csv`` (one row per epoch)."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "metrics.json.tmp"
    tmp.write_text(json.dumps({"run": run, "history": history.to_dict()}, indent=2) + "\n")
    os.replace(tmp, out / "metrics.json")
    columns = ("epoch", "steps", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds", "lr")
    with open(out / "metrics.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for i in range(len(history)):
            writer.writerow([getattr(history, c)[i] for c in columns])


def _recipe_defaults(name: str) -> dict[str, Any]:
    """The flags' values for ``--recipe name``."""
    recipe = DIGITS_RECIPES[name]
    return {"model": recipe.network, "image_size": recipe.image_size,
            "batch_size": recipe.batch_size, "epochs": recipe.epochs, **recipe.fit_settings()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    description = __doc__.split("\n\n")[0].replace("``", "")
    p = argparse.ArgumentParser(prog="python -m inception.train", description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--recipe", choices=sorted(DIGITS_RECIPES), default=None,
                   help="start from chapter 10's recipe (inception.recipes.DIGITS_RECIPES); other flags override it")
    p.add_argument("--model", choices=NETWORKS, default="inception_v2", help="the network")
    p.add_argument("--config", default="{}",
                   help="JSON dict: the network's keyword arguments (inception_v2: InceptionV2Config fields); "
                        "with --recipe, merged into the recipe's")
    p.add_argument("--image-size", type=int, default=None,
                   help="side of the (upscaled) digits; default: smallest sensible size for the model")
    p.add_argument("--channels", type=int, default=1, help="input channels (the grey image repeated)")
    p.add_argument("--augment", action="store_true", help="random shifts and rotations of training images")
    p.add_argument("--epochs", type=int, default=10, help="total number of epochs (a resumed run included)")
    p.add_argument("--batch-size", type=int, default=64, help="per process")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd",
                   help="rmsprop is PyTorch's with the paper's decay 0.9 and eps 1.0 (eps outside the root)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate")
    p.add_argument("--momentum", type=float, default=0.9, help="momentum of sgd and rmsprop")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty")
    p.add_argument("--schedule", type=lambda text: None if text == "none" else text, choices=SCHEDULES,
                   default=None, metavar="{none,cosine,step}", help="learning-rate schedule over all steps")
    p.add_argument("--aux-weight", type=float, default=0.3, help="weight of each auxiliary head's loss")
    p.add_argument("--label-smoothing", type=float, default=0.0, help="label smoothing epsilon")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the weights, the shuffling and the train/test split of the digits")
    p.add_argument("--device", default="auto", help='"auto" (a GPU if there is one), "cpu" or "cuda"')
    p.add_argument("--out", required=True, help="folder for checkpoint.pt, metrics.json and metrics.csv")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    recipe = argparse.ArgumentParser(add_help=False)
    recipe.add_argument("--recipe", choices=sorted(DIGITS_RECIPES), default=None)
    name = recipe.parse_known_args(argv)[0].recipe
    if name is not None:
        p.set_defaults(**_recipe_defaults(name))
    return p.parse_args(argv)


def network_config(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--config`` dict, checked (``SystemExit`` with a message otherwise), with the other flags."""
    for flag in ("epochs", "batch_size", "channels"):
        if getattr(args, flag) < 1:
            raise SystemExit(f"error: --{flag.replace('_', '-')} must be a positive integer, got {getattr(args, flag)}")
    try:
        config = json.loads(args.config)
    except json.JSONDecodeError as error:
        raise SystemExit(f"--config must be a JSON dict, e.g. '{{\"width\": 0.5}}': {error}") from None
    if not isinstance(config, dict):
        raise SystemExit(f"--config must be a JSON dict, got {type(config).__name__}")
    misplaced = [key for key in (*INPUT_SETTINGS, *TRAINING_SETTINGS) if key in config]
    if misplaced:
        raise SystemExit(f"error: --config holds the network's settings only, not {misplaced}: the image size and "
                         "channels are --image-size and --channels, the training settings have their own flags")
    recipe = DIGITS_RECIPES[args.recipe].config if getattr(args, "recipe", None) else {}
    return {**recipe, **config}


def setup_process(device: str) -> tuple[torch.device, int, int]:
    """The device, rank and number of processes; under ``torchrun`` also joins the process group."""
    world_size, local_rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("LOCAL_RANK", "0"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = as_device(device)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if world_size > 1:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device, int(os.environ.get("RANK", "0")), world_size


def run(args: argparse.Namespace, config: dict[str, Any], device: torch.device, rank: int, world_size: int
        ) -> History:
    """Build the network and the digits for ``args``, then :func:`train`, writing to ``args.out``."""
    image_size = args.image_size or DEFAULT_IMAGE_SIZE[args.model]
    seed_everything(args.seed)  # the same initial weights for the same seed
    model = build_model(args.model, config, image_size, args.channels).to(device)
    loaders = digits_loaders(batch_size=args.batch_size, image_size=image_size, channels=args.channels,
                             augment=args.augment, seed=args.seed, distributed=world_size > 1)
    if world_size > 1:
        model = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    out = Path(args.out)
    settings = {key: getattr(args, key) for key in TRAINING_SETTINGS}
    identity = {"model": args.model, "config": config, "image_size": image_size, "channels": args.channels}
    record = {"recipe": args.recipe, **identity, "augment": args.augment, "batch_size": args.batch_size,
              "world_size": world_size, **settings, "seed": args.seed, "epochs": args.epochs}
    if rank == 0:
        print(f"{args.model} on {world_size} process(es), {device.type}, global batch "
              f"{args.batch_size * world_size}, {image_size}×{image_size} digits", flush=True)
        if args.resume and (out / "checkpoint.pt").is_file():
            done = load_checkpoint(out / "checkpoint.pt")["epoch"]
            print(f"resuming from {out / 'checkpoint.pt'} after epoch {done}", flush=True)
    # What must not change when resuming: the network and the data it sees (the identity).
    history = train(model, *loaders, epochs=args.epochs, **settings, seed=args.seed, device=device,
                    checkpoint=out / "checkpoint.pt", resume=args.resume, config=identity,
                    progress=not args.no_progress, callback=lambda h: write_metrics(out, h, record))
    if rank == 0 and len(history):
        print(f"epoch {history.epoch[-1]}: test accuracy {history.test_accuracy[-1]:.4f}, "
              f"train loss {history.train_loss[-1]:.4f}; wrote {out / 'checkpoint.pt'}", flush=True)
    return history


def main(argv: list[str] | None = None) -> History:
    args = parse_args(argv)
    config = network_config(args)
    try:
        device, rank, world_size = setup_process(args.device)
        try:
            return run(args, config, device, rank, world_size)
        finally:
            if world_size > 1:
                torch.distributed.destroy_process_group()
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main(sys.argv[1:])
