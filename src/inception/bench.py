"""How fast are the networks on this machine? ``python -m inception.bench``.

For each network, at the paper's size (ImageNet input, 1,000 classes) and in the small configuration
chapter 10 trains on the digits (:data:`inception.recipes.DIGITS_RECIPES`), it measures

- forward latency: one image, eval mode, no gradients (milliseconds);
- training throughput: forward, backward and an SGD step on a batch (images per second);
- for the small configurations, the training time to reach 98% test accuracy on the digits (seconds,
  evaluations excluded), with the chapter's recipe but up to three times its epochs.

Each figure is the median of ``--runs`` runs (time to accuracy: one run per seed, ``--seeds``), and
the whole table is printed at the end. It is a benchmark, not a test: the figures depend on the machine
and on whatever else it is doing. ``--quick`` runs a tiny version (small networks, one run, one epoch).

Then chapter 12's ratios (``--no-deploy`` skips them), on this machine: chapter 10's Inception-v2 trained
on the digits (:func:`inception.export.train_digits_network`), run as trained, with its BN folded, in
int8, and in ONNX Runtime (fp32 and int8): size, latency on one image, accuracy, and the ratios against
the network as trained (:func:`inception.speedups.deployments`); and for the digits network and GoogLeNet
at 224 pixels, 2 threads against 1 and ``channels_last`` against the default layout
(:func:`inception.speedups.layout_and_threads`). With ``--quick`` the network is not trained (its accuracy
means nothing) and GoogLeNet is left out.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from inception.cost import count_macs, count_parameters
from inception.data import NUM_CLASSES
from inception.history import History
from inception.losses import auxiliary_loss
from inception.recipes import DIGITS_RECIPES, NETWORKS, build_model
from inception.training import as_device, fit
from inception.validation import (
    check_choice,
    check_count,
    check_flag,
    check_input_size,
    check_module,
    check_positive_int,
)


@dataclass
class Row:
    network: str
    setting: str
    input_size: tuple[int, ...]
    params: int
    macs: int
    latency_ms: float
    train_images_per_s: float
    seconds_to_98: float | None = None
    epochs_to_98: int | None = None
    note: str = ""


PAPER = {  # network: (its settings, input size); RGB images, 1,000 classes
    "googlenet": ({}, 224),
    "bn_inception": ({}, 224),
    "inception_v2": ({"stem": "paper"}, 299),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _check_timing(model: object, input_size: object, runs: object, warmup: object) -> tuple[int, ...]:
    check_module(model)
    check_positive_int("runs", runs)
    check_count("warmup", warmup)
    return check_input_size(input_size)


def forward_latency(model: nn.Module, input_size: tuple[int, ...], runs: int = 5, warmup: int = 2,
                    device: torch.device | str = "cpu") -> float:
    """Median seconds of one forward pass in eval mode without gradients."""
    input_size = _check_timing(model, input_size, runs, warmup)
    device = as_device(device)
    model = model.to(device).eval()
    x = torch.randn(*input_size, device=device)
    times = []
    with torch.no_grad():
        for i in range(warmup + runs):
            _sync(device)
            start = time.perf_counter()
            model(x)
            _sync(device)
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return statistics.median(times)


def training_throughput(model: nn.Module, input_size: tuple[int, ...], num_classes: int, runs: int = 5,
                        warmup: int = 1, device: torch.device | str = "cpu") -> float:
    """Median images per second of a training step (forward with auxiliary heads, backward, SGD step)."""
    input_size = _check_timing(model, input_size, runs, warmup)
    check_positive_int("num_classes", num_classes)
    device = as_device(device)
    model = model.to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x = torch.randn(*input_size, device=device)
    y = torch.randint(0, num_classes, (input_size[0],), device=device)
    times = []
    for i in range(warmup + runs):
        _sync(device)
        start = time.perf_counter()
        loss = auxiliary_loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return input_size[0] / statistics.median(times)


def time_to_accuracy(name: str, target: float = 0.98, seed: int = 0, max_epochs: int | None = None,
                     device: torch.device | str = "cpu") -> tuple[float | None, int | None]:
    """Training seconds (evaluations excluded) and epochs until the test accuracy first reaches ``target``,
    following ``DIGITS_RECIPES[name]`` but for up to ``max_epochs`` (default: three times the recipe's epochs,
    with the schedule stretched to match), stopping as soon as it is reached; ``(None, None)`` if never."""
    check_choice("name", name, NETWORKS)
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0.0 < target <= 1.0:
        raise ValueError(f"target must be an accuracy in (0, 1], got {target!r}")
    if max_epochs is not None:
        check_positive_int("max_epochs", max_epochs)
    recipe = DIGITS_RECIPES[name]
    torch.manual_seed(seed)
    model = recipe.build_model()
    train_loader, test_loader = recipe.loaders()
    epochs = max_epochs or 3 * recipe.epochs
    reached: list[History] = []

    def stop_when_reached(history: History) -> None:
        if history.test_accuracy[-1] >= target:
            reached.append(history)
            raise _Reached

    try:
        history = fit(model, train_loader, test_loader, epochs=epochs, seed=seed, device=device,
                      callback=stop_when_reached, **recipe.fit_settings())
    except _Reached:
        history = reached[0]
        return history.total_seconds, len(history)
    return None, None


class _Reached(Exception):
    """Raised from fit's callback to stop training once the target accuracy is reached."""


def _measure(name: str, setting: str, model: nn.Module, size: int, num_classes: int, batch: int, runs: int,
             device: torch.device, log: Callable[[str], object]) -> Row:
    """Parameters, multiply-adds, forward latency and training throughput of one network."""
    log(f"{name} ({setting}, {size}×{size}) ...")
    one = (1, model.in_channels, size, size)
    latency = forward_latency(model, one, runs=runs, device=device)
    throughput = training_throughput(model, (batch, *one[1:]), num_classes, runs=runs, device=device)
    return Row(name, setting, one[1:], count_parameters(model), count_macs(model.eval(), one), latency * 1e3,
               throughput)


def _time_to_98(row: Row, seeds: int, max_epochs: int | None, device: torch.device) -> None:
    """Fill in the row's median time and epochs to 98% when most runs reach it."""
    results = [time_to_accuracy(row.network, seed=s, max_epochs=max_epochs, device=device) for s in range(seeds)]
    reached = [r for r in results if r[0] is not None]
    if len(reached) > len(results) // 2:
        row.seconds_to_98 = statistics.median(r[0] for r in reached)
        row.epochs_to_98 = int(statistics.median(r[1] for r in reached))
    row.note = f"98% reached in {len(reached)}/{len(results)} runs"


def benchmark(networks: tuple[str, ...] = NETWORKS, paper: bool = True, small: bool = True, runs: int = 5,
              seeds: int = 3, train_batch: int = 16, quick: bool = False, device: str = "cpu",
              log: Callable[[str], object] = print) -> list[Row]:
    """Measure every network; return the rows of the table (see the module docstring)."""
    for name in networks:
        check_choice("networks", name, NETWORKS)
    for name, value in (("runs", runs), ("seeds", seeds), ("train_batch", train_batch)):
        check_positive_int(name, value)
    device = as_device(device)
    rows = []
    for name in networks if check_flag("paper", paper) and not check_flag("quick", quick) else ():
        config, size = PAPER[name]
        torch.manual_seed(0)
        model = build_model(name, config, size, in_channels=3, num_classes=1000)
        rows.append(_measure(name, "paper", model, size, 1000, train_batch, max(1, runs // 2), device, log))
    for name in networks if check_flag("small", small) else ():
        recipe = DIGITS_RECIPES[name]
        torch.manual_seed(0)
        row = _measure(name, "digits", recipe.build_model(), recipe.image_size, NUM_CLASSES, recipe.batch_size, runs,
                       device, log)
        _time_to_98(row, seeds=1 if quick else seeds, max_epochs=1 if quick else None, device=device)
        rows.append(row)
    return rows


def format_table(rows: list[Row]) -> str:
    head = ("network", "setting", "input", "params", "MACs", "latency ms", "train img/s", "s to 98%", "epochs",
            "note")
    lines = [head]
    for r in rows:
        lines.append((r.network, r.setting, "×".join(map(str, r.input_size)), f"{r.params / 1e6:.2f}M",
                      f"{r.macs / 1e6:,.1f}M", f"{r.latency_ms:.1f}", f"{r.train_images_per_s:,.0f}",
                      "—" if r.seconds_to_98 is None else f"{r.seconds_to_98:.1f}",
                      "—" if r.epochs_to_98 is None else str(r.epochs_to_98), r.note))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    out.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(out)


def deployment_report(quick: bool = False, runs: int = 20, log: Callable[[str], object] = print) -> str:
    """Chapter 12's ratios on this machine, as text (see the module docstring)."""
    from inception.export import train_digits_network
    from inception.googlenet import GoogLeNet
    from inception.speedups import deployment_table, deployments, digits_tensors, layout_and_threads

    calibration, images, labels = digits_tensors()
    if check_flag("quick", quick):
        torch.manual_seed(0)
        model, what = DIGITS_RECIPES["inception_v2"].build_model().eval(), "untrained (--quick)"
    else:
        log("training chapter 10's Inception-v2 on the digits ...")
        model, what = train_digits_network().model, "trained by its recipe, seed 0"
    log("measuring the deployments ...")
    lines = [f"Inception-v2 on the digits, {what}; one image, 1 thread, median of {runs} runs:",
             deployment_table(deployments(model, calibration, images, labels, runs=runs))]
    networks = [("Inception-v2, digits", model, (1, 8, 8), 64)]
    if not quick:
        networks.append(("GoogLeNet, 224 px", GoogLeNet().eval(), (3, 224, 224), 8))
    for name, network, size, batch in networks:
        log(f"threads and layout: {name} ...")
        r = layout_and_threads(network, size, batch, runs=max(1, runs // 4))
        lines.append(f"{name}, batch {batch}: {r['1 thread']:,.0f} img/s on 1 thread; 2 threads "
                     f"{r['2 threads / 1']:.2f}×; channels_last {r['channels_last / default']:.2f}×")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(prog="python -m inception.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    p.add_argument("--runs", type=int, default=5, help="timed runs per figure (the median is reported)")
    p.add_argument("--seeds", type=int, default=3, help="training runs for the time to 98%% (median)")
    p.add_argument("--train-batch", type=int, default=16, help="batch of the paper-size training step")
    p.add_argument("--no-paper", action="store_true", help="skip the paper-size networks")
    p.add_argument("--no-digits", action="store_true", help="skip the small configurations")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-deploy", action="store_true", help="skip chapter 12's ratios (BN folding, int8, ONNX)")
    p.add_argument("--quick", action="store_true", help="a smoke run: small networks, one run, one epoch")
    args = p.parse_args(argv)
    if args.runs < 1 or args.seeds < 1 or args.train_batch < 1:
        raise SystemExit("error: --runs, --seeds and --train-batch must be positive integers")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        rows = benchmark(tuple(args.networks), paper=not args.no_paper, small=not args.no_digits,
                         runs=1 if args.quick else args.runs, seeds=args.seeds, train_batch=args.train_batch,
                         quick=args.quick, device=args.device, log=lambda m: print(m, file=sys.stderr, flush=True))
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}; "
          f"median of {1 if args.quick else args.runs} runs")
    if rows:
        print(format_table(rows))
    if not args.no_deploy:
        print()
        print(deployment_report(quick=args.quick, runs=2 if args.quick else 4 * args.runs,
                                log=lambda m: print(m, file=sys.stderr, flush=True)))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
