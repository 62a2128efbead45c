"""The command-line trainer: two CPU processes under torchrun learn the digits and --resume continues; its
loop resumes from a checkpoint as if never stopped; recipes as flags; clear errors."""

import json
import os
import subprocess
import sys

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from inception.checkpoints import load_checkpoint, save_checkpoint
from inception.data import digits_datasets
from inception.recipes import DIGITS_RECIPES
from inception.train import main, network_config, parse_args, train
from inception.training import evaluate, fit

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


def test_one_process_runs_are_repeatable(tmp_path, capsys):
    argv = ["--config", json.dumps(TINY), "--epochs", "1", "--optimizer", "adam", "--lr", "0.003", "--no-progress"]
    a = main([*argv, "--out", str(tmp_path / "a")])
    b = main([*argv, "--out", str(tmp_path / "b")])
    assert a.train_loss == b.train_loss and a.test_accuracy == b.test_accuracy  # seeded weights and batches
    assert "on 1 process(es), cpu, global batch 64, 8×8 digits" in capsys.readouterr().out


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(4),
                                      nn.Flatten())
        self.fc = nn.Linear(8 * 4, 10)

    def forward(self, x):
        return self.fc(self.features(x))


@pytest.fixture(scope="module")
def small_loaders():
    train_set, test_set = digits_datasets()
    return (DataLoader(Subset(train_set, range(256)), batch_size=32, shuffle=True),
            DataLoader(Subset(test_set, range(100)), batch_size=100))


def test_train_is_fit_and_resumes_as_if_never_stopped(small_loaders, tmp_path):
    path = tmp_path / "run" / "checkpoint.pt"
    config = {"net": "tiny", "width": 8}
    settings = {"optimizer": "adam", "lr": 3e-3, "schedule": "cosine", "label_smoothing": 0.1}
    whole = fit(TinyNet(), *small_loaders, epochs=3, **settings)
    same = train(TinyNet(), *small_loaders, epochs=3, progress=False, **settings)
    for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "steps"):
        assert getattr(same, key) == getattr(whole, key)  # the same loop as fit's

    def stop_after_one_epoch(history):  # as if the machine went down after epoch 1
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(TinyNet(), *small_loaders, epochs=3, progress=False, checkpoint=path, config=config,
              callback=stop_after_one_epoch, **settings)
    state = load_checkpoint(path)
    assert state["epoch"] == 1 and state["config"] == config
    assert {"model", "optimizer", "config", "epoch", "history", "scheduler", "rng"} <= set(state)
    resumed = train(TinyNet(), *small_loaders, epochs=3, progress=False, checkpoint=path, resume=True,
                    config=config, **settings)
    assert resumed.epoch == [1, 2, 3] and resumed.steps == whole.steps
    assert resumed.train_loss == pytest.approx(whole.train_loss)  # as if never stopped
    assert resumed.test_accuracy == pytest.approx(whole.test_accuracy)
    assert resumed.lr == pytest.approx(whole.lr)
    assert load_checkpoint(path)["epoch"] == 3
    done = train(TinyNet(), *small_loaders, epochs=3, progress=False, checkpoint=path, resume=True, config=config)
    assert done.epoch == [1, 2, 3]  # nothing left to train
    model = TinyNet()
    load_checkpoint(path, model)
    assert evaluate(model, small_loaders[1])["accuracy"] == pytest.approx(resumed.test_accuracy[-1])
    with pytest.raises(ValueError, match="was written with config"):
        train(TinyNet(), *small_loaders, epochs=4, progress=False, checkpoint=path, resume=True, config={"net": "x"})


def test_resume_without_a_checkpoint_file_starts_afresh_and_shows_progress(small_loaders, tmp_path, capsys):
    history = train(TinyNet(), *small_loaders, epochs=1, checkpoint=tmp_path / "c.pt", resume=True)
    assert history.epoch == [1]
    assert "training" in capsys.readouterr().err  # the tqdm bar


def test_checkpoint_and_argument_errors(small_loaders, tmp_path):
    with pytest.raises(ValueError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a checkpoint written by inception.train"):
        load_checkpoint(tmp_path / "other.pt")
    save_checkpoint(tmp_path / "bare.pt", TinyNet(), epoch=1)
    with pytest.raises(ValueError, match="cannot be resumed from"):
        train(TinyNet(), *small_loaders, epochs=2, progress=False, checkpoint=tmp_path / "bare.pt", resume=True)
    with pytest.raises(ValueError, match="resume=True needs the checkpoint path"):
        train(TinyNet(), *small_loaders, resume=True)
    with pytest.raises(ValueError, match="config must be a dict"):
        train(TinyNet(), *small_loaders, config=[1, 2])
    with pytest.raises(ValueError, match="callback must be callable"):
        train(TinyNet(), *small_loaders, callback="print")
    with pytest.raises(ValueError, match="progress must be True or False"):
        train(TinyNet(), *small_loaders, progress=None)
    with pytest.raises(ValueError, match="expected a torch.nn.Module"):
        train("resnet", *small_loaders)
    with pytest.raises(ValueError, match="label_smoothing must be a number in"):
        train(TinyNet(), *small_loaders, label_smoothing=2.0, progress=False)
    with pytest.raises(ValueError, match="epoch must be an integer >= 0"):
        save_checkpoint(tmp_path / "c.pt", TinyNet(), epoch=-1)


def test_a_recipe_sets_the_flags_and_flags_override_it(tmp_path):
    recipe = DIGITS_RECIPES["googlenet"]
    args = parse_args(["--recipe", "googlenet", "--out", str(tmp_path)])
    assert (args.model, network_config(args), args.image_size) == ("googlenet", recipe.config, 32)
    assert (args.batch_size, args.epochs) == (recipe.batch_size, recipe.epochs)
    assert {key: getattr(args, key) for key in recipe.fit_settings()} == recipe.fit_settings()
    args = parse_args(["--recipe", "inception_v2", "--epochs", "1", "--lr", "0.01", "--out", str(tmp_path)])
    assert (args.model, args.epochs, args.lr, args.label_smoothing) == ("inception_v2", 1, 0.01, 0.1)
    merged = parse_args(["--recipe", "inception_v2", "--config", '{"width": 0.5}', "--out", str(tmp_path)])
    assert network_config(merged) == {**DIGITS_RECIPES["inception_v2"].config, "width": 0.5}
    assert parse_args(["--recipe", "inception_v2", "--schedule", "none", "--out", str(tmp_path)]).schedule is None
    plain = parse_args(["--out", str(tmp_path)])
    assert (plain.model, plain.optimizer, plain.aux_weight, plain.label_smoothing) == ("inception_v2", "sgd", 0.3, 0.0)


@pytest.mark.parametrize("argv, match", [
    (["--config", "{width: 1}"], "--config must be a JSON dict"),
    (["--config", "[1, 2]"], "--config must be a JSON dict, got list"),
    (["--config", '{"depth": 3}'], "unknown InceptionV2Config fields"),
    (["--config", '{"label_smoothing": 0.1}'], r"the network's settings only, not \['label_smoothing'\]"),
    (["--config", '{"image_size": 16}'], "--image-size and --channels"),
    (["--model", "googlenet", "--config", '{"width": 0.5}'], r"GoogLeNet has no setting \['width'\]"),
    (["--epochs", "0"], "--epochs must be a positive integer"),
    (["--device", "gpu7"], "device must be a torch.device or a name"),
])
def test_bad_arguments(tmp_path, argv, match):
    with pytest.raises(SystemExit, match=match):
        main([*argv, "--out", str(tmp_path), "--no-progress"])


def test_unknown_model_or_recipe(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--model", "resnet", "--out", str(tmp_path)])
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--recipe", "alexnet", "--out", str(tmp_path)])
    assert "invalid choice: 'alexnet'" in capsys.readouterr().err
