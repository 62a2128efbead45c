"""The command-line trainer: two CPU processes under torchrun learn the digits, and --resume continues."""

import json
import os
import subprocess
import sys

import pytest
import torch

from inception.train import DEFAULT_IMAGE_SIZE, build_model, main

# A very small Inception-v2 (small stem, an eighth of the width, one Figure 7 module): seconds per epoch.
TINY = {"width": 0.125, "fig5_modules": 0, "fig6_modules": 0, "fig7_modules": 1, "dropout": 0.0, "aux_logits": False}


def torchrun(*args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "inception.train", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_two_processes_learn_and_resume(tmp_path):
    out = tmp_path / "run"
    common = ["--model", "inception_v2", "--config", json.dumps(TINY), "--batch-size", "32",
              "--optimizer", "adam", "--lr", "0.003", "--out", str(out), "--no-progress"]
    first = torchrun(*common, "--epochs", "2")
    assert "on 2 process(es), cpu, global batch 64" in first.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["run"]["world_size"] == 2 and metrics["history"]["epoch"] == [1, 2]
    assert metrics["history"]["steps"] == [23, 46]  # ceil(1437 / 2 / 32) steps per epoch and process
    assert torch.load(out / "checkpoint.pt", weights_only=False)["epoch"] == 2

    second = torchrun(*common, "--epochs", "3", "--resume")
    assert "resuming from" in second.stdout and "after epoch 2" in second.stdout
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    assert state["epoch"] == 3 and {"model", "optimizer", "config"} <= set(state)
    resumed = json.loads((out / "metrics.json").read_text())["history"]
    assert resumed["epoch"] == [1, 2, 3] and resumed["steps"] == [23, 46, 69]
    for key in ("train_loss", "test_accuracy"):  # the first two epochs are those of the first run
        assert resumed[key][:2] == metrics["history"][key]
    assert resumed["test_accuracy"][-1] > 0.5  # chance is 0.1
    assert resumed["train_loss"][-1] < resumed["train_loss"][0]
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,steps,train_loss") and len(rows) == 4


def test_build_model_defaults():
    model, config = build_model("inception_v2", {"width": 0.125})
    assert config["image_size"] == DEFAULT_IMAGE_SIZE["inception_v2"] == 8 and config["stem"] == "small"
    assert config["num_classes"] == 10 and config["in_channels"] == 1
    assert model.eval()(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


@pytest.mark.parametrize("argv, match", [
    (["--config", "{width: 1}"], "--config must be a JSON dict"),
    (["--config", "[1, 2]"], "--config must be a JSON dict, got list"),
    (["--config", '{"depth": 3}'], "unknown InceptionV2Config fields"),
    (["--model", "googlenet", "--config", '{"width": 0.5}'], "bad --config for GoogLeNet"),
    (["--epochs", "0"], "--epochs must be a positive integer"),
])
def test_bad_arguments(tmp_path, argv, match):
    with pytest.raises(SystemExit, match=match):
        main([*argv, "--out", str(tmp_path), "--no-progress"])


def test_unknown_model(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--model", "resnet", "--out", str(tmp_path)])
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="model must be one of"):
        build_model("resnet")


def test_benchmark_smoke(capsys):
    from inception.bench import main as bench

    rows = bench(["--quick", "--networks", "inception_v2", "--no-paper"])
    assert len(rows) == 1 and rows[0].setting == "digits" and rows[0].params > 0
    assert rows[0].latency_ms > 0 and rows[0].train_images_per_s > 0
    out = capsys.readouterr().out
    assert "inception_v2 | digits" in out and "train img/s" in out
