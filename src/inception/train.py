"""Train a network of the book from the command line, on one process or many: ``python -m inception.train``.

The same code as the chapters (``inception.data``, ``inception.training``), with the choices as flags::

    python -m inception.train --model inception_v2 \\
        --config '{"stem": "small", "width": 0.25, "fig5_modules": 1, "fig6_modules": 1, "fig7_modules": 1}' \\
        --epochs 8 --batch-size 64 --lr 0.002 --optimizer adam --out runs/v2

writes ``runs/v2/checkpoint.pt`` (model state, optimizer state, config dict, epoch) after every epoch,
and ``runs/v2/metrics.json`` and ``metrics.csv``. ``--resume`` continues from the checkpoint.

Unchanged under ``torchrun`` with ``DistributedDataParallel``::

    torchrun --standalone --nproc_per_node 2 -m inception.train --model inception_v2 ... --out runs/v2

Each process reads ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` from the environment torchrun sets,
joins the process group (gloo on CPU, NCCL on GPUs), trains on its own share of every epoch (a
``DistributedSampler``), and DDP averages the gradients; only process 0 writes files. ``--batch-size``
is per process: the global batch is ``batch size × processes``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import torch
from torch import nn

from inception.data import NUM_CLASSES, digits_loaders
from inception.training import OPTIMIZERS, SCHEDULES, History, fit

MODELS = ("googlenet", "bn_inception", "inception_v2")

#: The smallest sensible input for each network on the 8×8 digits (bilinear upscaling): GoogLeNet's stem
#: and four pools need at least 31 pixels; BN-Inception's stem needs 7, but only from 15 on do its first
#: modules see more than one pixel (2×2); Inception-v2 with the small stem takes the 8×8 digits as they are.
DEFAULT_IMAGE_SIZE = {"googlenet": 32, "bn_inception": 16, "inception_v2": 8}


#: How chapter 10 trains each network on the digits on a 2-core CPU: the network's configuration, the
#: input size, the batch, the epochs and ``fit``'s settings. GoogLeNet and BN-Inception are the papers'
#: networks (they have no width setting); Inception-v2 is a small configuration in the spirit of
#: chapter 9: the small stem, a quarter of the width, one module of each of Figures 5, 6 and 7, n = 3.
DIGITS_RECIPES: dict[str, dict] = {
    "inception_v2": {
        "model": "inception_v2",
        "config": {"stem": "small", "width": 0.25, "fig5_modules": 1, "fig6_modules": 1, "fig7_modules": 1,
                   "fig6_n": 3, "dropout": 0.2, "aux_logits": True, "aux_weight": 0.3, "label_smoothing": 0.1},
        "image_size": 8, "batch_size": 64, "epochs": 8,
        "fit": {"optimizer": "adam", "lr": 3e-3, "schedule": "cosine", "aux_weight": 0.3, "label_smoothing": 0.1},
    },
    "googlenet": {
        "model": "googlenet",
        "config": {"aux_logits": True},
        "image_size": 32, "batch_size": 64, "epochs": 3,
        "fit": {"optimizer": "adam", "lr": 1e-3, "schedule": "cosine", "aux_weight": 0.3, "label_smoothing": 0.0},
    },
    "bn_inception": {
        "model": "bn_inception",
        "config": {},
        "image_size": 16, "batch_size": 64, "epochs": 3,
        "fit": {"optimizer": "adam", "lr": 1e-3, "schedule": "cosine", "aux_weight": 0.3, "label_smoothing": 0.0},
    },
}


def build_model(name: str, config: dict | None = None, image_size: int | None = None, channels: int = 1,
                num_classes: int = NUM_CLASSES) -> tuple[nn.Module, dict]:
    """The network ``name`` built from ``config`` (its constructor's keyword arguments, or for
    ``inception_v2`` the fields of ``InceptionV2Config``). Returns the model and the full config dict
    (with ``num_classes``, ``in_channels`` and, for Inception-v2, ``image_size`` filled in)."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {name!r}")
    config = dict(config or {})
    config.setdefault("num_classes", num_classes)
    config.setdefault("in_channels", channels)
    if name == "googlenet":
        from inception.googlenet import GoogLeNet

        return _construct(GoogLeNet, config), config
    if name == "bn_inception":
        from inception.bn_inception import BNInception

        return _construct(BNInception, config), config
    from inception.inception_v2 import InceptionV2, InceptionV2Config

    config.setdefault("image_size", image_size or DEFAULT_IMAGE_SIZE[name])
    if "stem" not in config and config["image_size"] < 75:
        config["stem"] = "small"
    cfg = InceptionV2Config.from_dict(config)
    return InceptionV2.from_config(cfg), cfg.to_dict()


def _construct(cls: type[nn.Module], config: dict) -> nn.Module:
    try:
        return cls(**config)
    except TypeError as error:  # an unknown keyword
        raise ValueError(f"bad --config for {cls.__name__}: {error}") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m inception.train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", choices=MODELS, default="inception_v2", help="the network")
    p.add_argument("--config", default="{}",
                   help="JSON dict: the network's keyword arguments (inception_v2: InceptionV2Config fields)")
    p.add_argument("--image-size", type=int, default=None,
                   help="side of the (upscaled) digits; default: smallest sensible size for the model")
    p.add_argument("--channels", type=int, default=1, help="input channels (the grey image repeated)")
    p.add_argument("--augment", action="store_true", help="random shifts and rotations of training images")
    p.add_argument("--epochs", type=int, default=10, help="total number of epochs (a resumed run included)")
    p.add_argument("--batch-size", type=int, default=64, help="per process")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--schedule", choices=[s for s in SCHEDULES if s], default=None)
    p.add_argument("--aux-weight", type=float, default=None,
                   help="weight of the auxiliary losses (default: the config's, else 0.3)")
    p.add_argument("--label-smoothing", type=float, default=None,
                   help="label smoothing epsilon (default: the config's, else 0)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help='"auto" (a GPU if there is one), "cpu" or "cuda"')
    p.add_argument("--out", required=True, help="folder for checkpoint.pt, metrics.json and metrics.csv")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def write_metrics(out: Path, history: History, run: dict) -> None:
    """``metrics.json`` (the run's settings and the whole history) and ``metrics.csv`` (one row per epoch)."""
    out.mkdir(parents=True, exist_ok=True)
    data = {"run": run, "history": history.to_dict()}
    tmp = out / "metrics.json.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, out / "metrics.json")
    columns = ("epoch", "steps", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds", "lr")
    with open(out / "metrics.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for i in range(len(history)):
            writer.writerow([getattr(history, c)[i] for c in columns])


def main(argv: list[str] | None = None) -> History:
    args = parse_args(argv)
    for flag in ("epochs", "batch_size", "channels"):
        if getattr(args, flag) < 1:
            raise SystemExit(f"error: --{flag.replace('_', '-')} must be a positive integer, got {getattr(args, flag)}")
    try:
        config = json.loads(args.config)
    except json.JSONDecodeError as error:
        raise SystemExit(f"--config must be a JSON dict, e.g. '{{\"width\": 0.5}}': {error}") from None
    if not isinstance(config, dict):
        raise SystemExit(f"--config must be a JSON dict, got {type(config).__name__}")

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    distributed = world_size > 1
    if distributed:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        image_size = args.image_size or config.get("image_size") or DEFAULT_IMAGE_SIZE[args.model]
        model, model_config = build_model(args.model, config, image_size, args.channels)
        aux_weight = args.aux_weight if args.aux_weight is not None else model_config.get("aux_weight", 0.3)
        smoothing = (args.label_smoothing if args.label_smoothing is not None
                     else model_config.get("label_smoothing", 0.0))
        train_loader, test_loader = digits_loaders(batch_size=args.batch_size, image_size=image_size,
                                                   channels=args.channels, augment=args.augment, seed=args.seed,
                                                   distributed=distributed)
        model.to(device)
        if distributed:
            model = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda"
                                                        else None)
        out = Path(args.out)
        run = {"model": args.model, "config": model_config, "image_size": image_size, "channels": args.channels,
               "augment": args.augment, "batch_size": args.batch_size, "world_size": world_size,
               "optimizer": args.optimizer, "lr": args.lr, "momentum": args.momentum,
               "weight_decay": args.weight_decay, "schedule": args.schedule, "aux_weight": aux_weight,
               "label_smoothing": smoothing, "seed": args.seed, "epochs": args.epochs}
        if rank == 0:
            print(f"{args.model} on {world_size} process(es), {device.type}, global batch "
                  f"{args.batch_size * world_size}, {image_size}×{image_size} digits", flush=True)
        if rank == 0 and args.resume and (out / "checkpoint.pt").is_file():
            done = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)["epoch"]
            print(f"resuming from {out / 'checkpoint.pt'} after epoch {done}", flush=True)
        # What must not change when resuming: the network and the data it sees.
        same = {k: run[k] for k in ("model", "config", "image_size", "channels")}
        history = fit(model, train_loader, test_loader, epochs=args.epochs, optimizer=args.optimizer, lr=args.lr,
                      momentum=args.momentum, weight_decay=args.weight_decay, schedule=args.schedule,
                      aux_weight=aux_weight, label_smoothing=smoothing, seed=args.seed,
                      progress=not args.no_progress, checkpoint=out / "checkpoint.pt", resume=args.resume,
                      config=same, device=device, callback=lambda h: write_metrics(out, h, run))
        if rank == 0 and len(history):
            print(f"epoch {history.epoch[-1]}: test accuracy {history.test_accuracy[-1]:.4f}, "
                  f"train loss {history.train_loss[-1]:.4f}; wrote {out / 'checkpoint.pt'}", flush=True)
        return history
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    finally:
        if distributed:
            torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
