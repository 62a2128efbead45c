"""The benchmark: a smoke run of ``python -m inception.bench`` and clear errors."""

import pytest
from torch import nn

from inception.bench import benchmark, format_table, forward_latency, main, time_to_accuracy, training_throughput


def test_benchmark_smoke(capsys):
    rows = main(["--quick", "--networks", "inception_v2", "--no-paper", "--no-deploy"])
    assert len(rows) == 1 and rows[0].setting == "digits" and rows[0].params > 0
    assert rows[0].input_size == (1, 8, 8) and rows[0].note.startswith("98% reached in")
    assert rows[0].latency_ms > 0 and rows[0].train_images_per_s > 0
    out = capsys.readouterr().out
    assert "inception_v2 | digits" in out and "train img/s" in out
    assert format_table(rows) in out


def test_timings_of_a_small_module():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    assert forward_latency(model, (1, 1, 8, 8), runs=2, warmup=0) > 0
    assert training_throughput(model, (4, 1, 8, 8), num_classes=10, runs=1, warmup=0) > 0


@pytest.mark.parametrize("call, match", [
    (lambda: forward_latency("net", (1, 1, 8, 8)), "expected a torch.nn.Module"),
    (lambda: forward_latency(nn.Identity(), (8, 8, 0)), "input_size must be a tuple of positive ints"),
    (lambda: forward_latency(nn.Identity(), (1, 1, 8, 8), runs=0), "runs must be a positive integer"),
    (lambda: forward_latency(nn.Identity(), (1, 1, 8, 8), warmup=-1), "warmup must be an integer >= 0"),
    (lambda: training_throughput(nn.Identity(), (1, 10), num_classes=0), "num_classes must be a positive integer"),
    (lambda: time_to_accuracy("resnet"), "name must be one of"),
    (lambda: time_to_accuracy("inception_v2", target=98), r"target must be an accuracy in \(0, 1\]"),
    (lambda: time_to_accuracy("inception_v2", max_epochs=0), "max_epochs must be a positive integer"),
    (lambda: benchmark(("alexnet",)), "networks must be one of"),
    (lambda: benchmark(runs=0), "runs must be a positive integer"),
    (lambda: benchmark(quick="yes"), "quick must be True or False"),
    (lambda: benchmark(device="gpu7"), "device must be"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_flags():
    with pytest.raises(SystemExit, match="--runs, --seeds and --train-batch must be positive integers"):
        main(["--runs", "0"])


def test_deployment_ratios_are_printed(capsys, monkeypatch):
    """The CLI prints chapter 12's table; the deployments themselves are measured in test_speedups.py
    (here they are stand-ins, so that the test stays fast)."""
    import inception.speedups as speedups

    def measured(model, calibration, images, labels, runs=20, threads=1):
        assert len(calibration) == 256 and len(images) == len(labels) == 360 and runs == 2
        names = ["pytorch", "pytorch, BN folded", "pytorch, int8", "onnxruntime", "onnxruntime, int8"]
        return [speedups.Deployment(name, 3_000_000 // (i + 1), 1e-3 / (i + 1), 0.98, None)
                for i, name in enumerate(names)]

    monkeypatch.setattr(speedups, "deployments", measured)
    main(["--quick", "--networks", "inception_v2", "--no-paper", "--no-digits"])
    out = capsys.readouterr().out
    for variant in ("pytorch, BN folded", "pytorch, int8", "onnxruntime", "onnxruntime, int8"):
        assert f"\n{variant} " in out, variant
    assert "faster" in out and "smaller" in out and "5.00×" in out
    assert "channels_last" in out and "2 threads" in out


def test_deployment_table_needs_rows():
    from inception.speedups import deployment_table

    with pytest.raises(ValueError, match="at least one"):
        deployment_table([])
