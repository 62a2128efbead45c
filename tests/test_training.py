"""The training loop: learning, determinism, auxiliary heads, schedules, checkpoints and resuming."""

import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from inception.data import digits_datasets
from inception.layers import InceptionOutputs
from inception.training import (
    History,
    evaluate,
    fit,
    load_checkpoint,
    lr_factor,
    make_optimizer,
    predict,
    steps_to_reach,
)


class TinyNet(nn.Module):
    """A small CNN for 8×8 digits; with ``aux=True`` it returns InceptionOutputs in training mode."""

    def __init__(self, aux: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32),
                                      nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.fc = nn.Linear(32 * 4, 10)
        self.aux1 = nn.Linear(32 * 4, 10) if aux else None

    def forward(self, x):
        f = self.features(x)
        if self.training and self.aux1 is not None:
            return InceptionOutputs(self.fc(f), (self.aux1(f),))
        return self.fc(f)


@pytest.fixture(scope="module")
def loaders():
    train, test = digits_datasets()
    return DataLoader(train, batch_size=32, shuffle=True), DataLoader(test, batch_size=256)


@pytest.fixture(scope="module")
def small_loaders(loaders):
    train, test = loaders[0].dataset, loaders[1].dataset
    return (DataLoader(Subset(train, range(256)), batch_size=32, shuffle=True),
            DataLoader(Subset(test, range(100)), batch_size=100))


def test_fit_learns_the_digits(loaders):
    train_loader, test_loader = loaders
    model = TinyNet()
    before = evaluate(model, test_loader)["accuracy"]
    history = fit(model, train_loader, test_loader, epochs=3, lr=0.05, progress=False)
    assert before < 0.3
    assert history.test_accuracy[-1] > 0.9
    assert history.epoch == [1, 2, 3] and history.steps == [45, 90, 135]
    assert history.train_loss[0] > history.train_loss[-1]
    assert all(s > 0 for s in history.seconds) and history.total_seconds == pytest.approx(sum(history.seconds))
    assert not model.training
    assert "3 epochs" in repr(history)


def test_same_seed_same_history(small_loaders):
    a = fit(TinyNet(), *small_loaders, epochs=2, progress=False, seed=3)
    b = fit(TinyNet(), *small_loaders, epochs=2, progress=False, seed=3)
    assert a.train_loss == b.train_loss and a.test_accuracy == b.test_accuracy


def test_auxiliary_heads_add_weighted_loss_in_training_only(small_loaders):
    train_loader, test_loader = small_loaders
    with_aux = fit(TinyNet(aux=True), train_loader, test_loader, epochs=1, progress=False, aux_weight=0.3)
    no_weight = fit(TinyNet(aux=True), train_loader, test_loader, epochs=1, progress=False, aux_weight=0.0)
    plain = fit(TinyNet(), train_loader, test_loader, epochs=1, progress=False)
    # An aux head with weight 0 gets no gradient: training is that of the plain network.
    assert no_weight.train_loss == pytest.approx(plain.train_loss)
    assert with_aux.train_loss[0] > plain.train_loss[0]  # main loss + 0.3 × aux loss
    model = TinyNet(aux=True).eval()
    logits, targets = predict(model, test_loader)
    assert logits.shape == (100, 10) and targets.shape == (100,)


def test_label_smoothing_raises_the_training_loss(small_loaders):
    plain = fit(TinyNet(), *small_loaders, epochs=1, progress=False)
    smooth = fit(TinyNet(), *small_loaders, epochs=1, progress=False, label_smoothing=0.1)
    assert smooth.train_loss[0] > plain.train_loss[0]


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.05), ("adam", 1e-3), ("rmsprop", 0.05)])
@pytest.mark.parametrize("schedule", [None, "cosine", "step"])
def test_optimizers_and_schedules(small_loaders, optimizer, lr, schedule):
    history = fit(TinyNet(), *small_loaders, epochs=2, optimizer=optimizer, lr=lr, schedule=schedule,
                  progress=False, weight_decay=1e-4)
    assert history.train_loss[-1] < math.log(10)  # below chance
    assert history.lr[-1] == pytest.approx(lr * lr_factor(schedule, 16, 16))


def test_lr_factor():
    assert lr_factor(None, 50, 100) == 1.0
    assert lr_factor("cosine", 0, 100) == 1.0
    assert lr_factor("cosine", 50, 100) == pytest.approx(0.5)
    assert lr_factor("cosine", 100, 100) == pytest.approx(0.0)
    assert [lr_factor("step", s, 100) for s in (49, 50, 75)] == pytest.approx([1.0, 0.1, 0.01])


def test_eval_every_and_steps_to_reach(small_loaders):
    history = fit(TinyNet(), *small_loaders, epochs=2, eval_every=3, progress=False)
    assert history.eval_steps == [3, 6, 9, 12, 15]
    assert len(history.eval_accuracy) == 5
    reached = steps_to_reach(history, history.eval_accuracy[2])
    assert reached is not None and reached <= 9
    assert steps_to_reach(history, 1.0) is None or max(history.eval_accuracy) == 1.0
    by_epoch = History(epoch=[1, 2], steps=[10, 20], test_accuracy=[0.5, 0.9])
    assert steps_to_reach(by_epoch, 0.8) == 20 and steps_to_reach(by_epoch, 0.95) is None
    assert History.from_dict(history.to_dict()) == history


def test_checkpoint_and_resume_continue_where_stopped(small_loaders, tmp_path):
    path = tmp_path / "run" / "checkpoint.pt"
    config = {"net": "tiny", "width": 16}
    whole = fit(TinyNet(), *small_loaders, epochs=3, progress=False)
    first = fit(TinyNet(), *small_loaders, epochs=1, progress=False, checkpoint=path, config=config)
    state = load_checkpoint(path)
    assert state["epoch"] == 1 and state["config"] == config
    assert {"model", "optimizer", "config", "epoch"} <= set(state)
    resumed = fit(TinyNet(), *small_loaders, epochs=3, progress=False, checkpoint=path, resume=True,
                  config=config)
    assert resumed.epoch == [1, 2, 3] and resumed.train_loss[0] == first.train_loss[0]
    assert resumed.train_loss == pytest.approx(whole.train_loss)  # as if never stopped
    assert resumed.test_accuracy == pytest.approx(whole.test_accuracy)
    assert load_checkpoint(path)["epoch"] == 3
    done = fit(TinyNet(), *small_loaders, epochs=3, progress=False, checkpoint=path, resume=True, config=config)
    assert done.epoch == [1, 2, 3]  # nothing left to train
    model = TinyNet()
    load_checkpoint(path, model)
    assert evaluate(model, small_loaders[1])["accuracy"] == pytest.approx(resumed.test_accuracy[-1])
    with pytest.raises(ValueError, match="was written with config"):
        fit(TinyNet(), *small_loaders, epochs=4, progress=False, checkpoint=path, resume=True, config={"net": "x"})


def test_resume_without_a_checkpoint_file_starts_afresh(small_loaders, tmp_path):
    history = fit(TinyNet(), *small_loaders, epochs=1, progress=False, checkpoint=tmp_path / "c.pt", resume=True)
    assert history.epoch == [1]


def test_progress_bar_runs(small_loaders, capsys):
    fit(TinyNet(), *small_loaders, epochs=1, progress=True)
    assert "training" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(optimizer="lbfgs"), "optimizer must be one of"),
    (dict(lr=-1.0), "lr must be a number >= 0"),
    (dict(lr=0), "lr must be > 0"),
    (dict(schedule="linear"), "schedule must be one of"),
    (dict(aux_weight=-0.3), "aux_weight must be a number >= 0"),
    (dict(label_smoothing=1.0), "label_smoothing must be a number >= 0.0 and < 1.0"),
    (dict(eval_every=0), "eval_every must be a positive integer"),
    (dict(resume=True), "resume=True needs the checkpoint path"),
    (dict(config=[1, 2]), "config must be a dict"),
    (dict(seed=1.5), "seed must be an int"),
])
def test_bad_arguments(small_loaders, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(TinyNet(), *small_loaders, progress=False, **kwargs)


def test_bad_inputs(small_loaders, tmp_path):
    with pytest.raises(ValueError, match="fit expects a torch.nn.Module"):
        fit("resnet", *small_loaders)
    with pytest.raises(ValueError, match="eval_every needs a test_loader"):
        fit(TinyNet(), small_loaders[0], None, eval_every=5, progress=False)
    with pytest.raises(ValueError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a checkpoint written by inception.training"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(ValueError, match="momentum must be a number >= 0"):
        make_optimizer(TinyNet(), momentum=-0.9)
    with pytest.raises(ValueError, match="accuracy must be a fraction"):
        steps_to_reach(History(), 98)


# The figures of a training run (inception.plots).

def test_plots(small_loaders):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from inception import plots

    model = TinyNet()
    history = fit(model, *small_loaders, epochs=2, progress=False, eval_every=4)
    assert len(plots.training_curves(history).axes) == 2
    assert len(plots.training_curves({"a": history, "b": history}, steps=True).axes) == 1
    logits, targets = predict(model, small_loaders[1])
    counts = plots.confusion(targets, logits.argmax(1))
    assert counts.shape == (10, 10) and counts.sum() == 100 and counts.trace() == (logits.argmax(1) == targets).sum()
    plots.confusion_matrix(targets, logits.argmax(1))
    plots.misclassified(model, small_loaders[1], n=5)
    image = small_loaders[1].dataset[0][0]
    maps = plots.feature_maps(model, image, ["features.2", "features.6"], channels=4)
    assert maps["features.2"].shape == (4, 8, 8) and maps["features.6"].shape == (4, 4, 4)
    assert len(plots.plot_feature_maps(model, image, ["features.2", "features.6"], channels=4).axes) == 10
    plt.close("all")
    with pytest.raises(ValueError, match="no submodule named"):
        plots.feature_maps(model, image, ["conv9"])
    with pytest.raises(ValueError, match=r"one image of shape \(C, H, W\)"):
        plots.feature_maps(model, image[None], ["features.2"])
    with pytest.raises(ValueError, match="expected a History"):
        plots.training_curves([history])
    with pytest.raises(ValueError, match="no per-step evaluations"):
        plots.training_curves(History(epoch=[1]), steps=True)
    with pytest.raises(ValueError, match="same shape"):
        plots.confusion(targets, targets[:3])
