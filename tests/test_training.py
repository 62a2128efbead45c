"""The training loop: learning, determinism, auxiliary heads, schedules, per-step evaluation, checks; the plots."""

import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from inception.data import digits_datasets
from inception.layers import InceptionOutputs
from inception.training import (
    History,
    as_device,
    evaluate,
    fit,
    lr_factor,
    make_optimizer,
    make_scheduler,
    predict,
    seed_everything,
    steps_to_reach,
    train_one_epoch,
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
    history = fit(model, train_loader, test_loader, epochs=3, lr=0.05)
    assert before < 0.3
    assert history.test_accuracy[-1] > 0.9
    assert history.epoch == [1, 2, 3] and history.steps == [45, 90, 135]
    assert history.train_loss[0] > history.train_loss[-1]
    assert all(s > 0 for s in history.seconds) and history.total_seconds == pytest.approx(sum(history.seconds))
    assert not model.training
    assert "3 epochs" in repr(history)


def test_same_seed_same_history(small_loaders):
    a = fit(TinyNet(), *small_loaders, epochs=2, seed=3)
    b = fit(TinyNet(), *small_loaders, epochs=2, seed=3)
    assert a.train_loss == b.train_loss and a.test_accuracy == b.test_accuracy


def test_auxiliary_heads_add_weighted_loss_in_training_only(small_loaders):
    train_loader, test_loader = small_loaders
    with_aux = fit(TinyNet(aux=True), train_loader, test_loader, epochs=1, aux_weight=0.3)
    no_weight = fit(TinyNet(aux=True), train_loader, test_loader, epochs=1, aux_weight=0.0)
    plain = fit(TinyNet(), train_loader, test_loader, epochs=1)
    # An aux head with weight 0 gets no gradient: training is that of the plain network.
    assert no_weight.train_loss == pytest.approx(plain.train_loss)
    assert with_aux.train_loss[0] > plain.train_loss[0]  # main loss + 0.3 × aux loss
    model = TinyNet(aux=True).eval()
    logits, targets = predict(model, test_loader)
    assert logits.shape == (100, 10) and targets.shape == (100,)


def test_label_smoothing_raises_the_training_loss(small_loaders):
    plain = fit(TinyNet(), *small_loaders, epochs=1)
    smooth = fit(TinyNet(), *small_loaders, epochs=1, label_smoothing=0.1)
    assert smooth.train_loss[0] > plain.train_loss[0]


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.05), ("adam", 1e-3), ("rmsprop", 0.05)])
@pytest.mark.parametrize("schedule", [None, "cosine", "step"])
def test_optimizers_and_schedules(small_loaders, optimizer, lr, schedule):
    history = fit(TinyNet(), *small_loaders, epochs=2, optimizer=optimizer, lr=lr, schedule=schedule,
                  weight_decay=1e-4)
    assert history.train_loss[-1] < math.log(10)  # below chance
    assert history.lr[-1] == pytest.approx(lr * lr_factor(schedule, 16, 16))


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_multi_tensor_optimizers_compute_what_the_per_parameter_loop_does(small_loaders, optimizer):
    """make_optimizer uses foreach=True; the committed widget network depends on it changing no bit."""
    weights = {}
    for foreach in (True, False):
        seed_everything(0)
        model = TinyNet(aux=True)
        opt = make_optimizer(model, optimizer, lr=0.01, momentum=0.9, weight_decay=1e-4)
        assert all(group["foreach"] for group in opt.param_groups)
        for group in opt.param_groups:
            group["foreach"] = foreach
        for _ in range(2):
            train_one_epoch(model, small_loaders[0], opt)
        weights[foreach] = model.state_dict()
    assert all(torch.equal(weights[True][name], weights[False][name]) for name in weights[True])


def test_lr_factor():
    assert lr_factor(None, 50, 100) == 1.0
    assert lr_factor("cosine", 0, 100) == 1.0
    assert lr_factor("cosine", 50, 100) == pytest.approx(0.5)
    assert lr_factor("cosine", 100, 100) == pytest.approx(0.0)
    assert [lr_factor("step", s, 100) for s in (49, 50, 75)] == pytest.approx([1.0, 0.1, 0.01])


def test_eval_every_and_steps_to_reach(small_loaders):
    history = fit(TinyNet(), *small_loaders, epochs=2, eval_every=3)
    assert history.eval_steps == [3, 6, 9, 12, 15]
    assert len(history.eval_accuracy) == 5
    reached = steps_to_reach(history, history.eval_accuracy[2])
    assert reached is not None and reached <= 9
    assert steps_to_reach(history, 1.0) is None or max(history.eval_accuracy) == 1.0
    by_epoch = History(epoch=[1, 2], steps=[10, 20], test_accuracy=[0.5, 0.9])
    assert steps_to_reach(by_epoch, 0.8) == 20 and steps_to_reach(by_epoch, 0.95) is None
    assert History.from_dict(history.to_dict()) == history


def test_train_one_epoch_and_history(small_loaders):
    train_loader, test_loader = small_loaders
    model = TinyNet(aux=True)
    optimizer = make_optimizer(model, "sgd", lr=0.05)
    scheduler = make_scheduler(optimizer, "cosine", total_steps=16)
    calls = []
    metrics = train_one_epoch(model, train_loader, optimizer, scheduler, aux_weight=0.3,
                              after_step=lambda: calls.append(1))
    assert set(metrics) == {"loss", "accuracy", "images", "steps", "seconds"}
    assert metrics["images"] == 256 and metrics["steps"] == len(calls) == 8 and 0 <= metrics["accuracy"] <= 1
    assert model.training and optimizer.param_groups[0]["lr"] == pytest.approx(0.05 * lr_factor("cosine", 8, 16))
    history = History()
    history.add_epoch(metrics, evaluate(model, test_loader), lr=optimizer.param_groups[0]["lr"])
    history.add_epoch(metrics, None, lr=0.01)
    assert history.epoch == [1, 2] and history.steps == [8, 16] and math.isnan(history.test_accuracy[1])
    assert history.best_accuracy == history.test_accuracy[0]


def test_callback_sees_every_epoch_and_can_stop_fit(small_loaders):
    seen = []

    def stop_after_two(history):
        seen.append(len(history))
        if len(history) == 2:
            raise StopIteration

    with pytest.raises(StopIteration):
        fit(TinyNet(), *small_loaders, epochs=5, callback=stop_after_two)
    assert seen == [1, 2]


def test_fit_without_a_test_loader(small_loaders):
    history = fit(TinyNet(), small_loaders[0], epochs=1)
    assert math.isnan(history.test_accuracy[0]) and history.train_accuracy[0] > 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(optimizer="lbfgs"), "optimizer must be one of"),
    (dict(lr=-1.0), "lr must be a number > 0"),
    (dict(lr=0), "lr must be a number > 0"),
    (dict(momentum=-0.9), "momentum must be a number >= 0"),
    (dict(weight_decay=float("nan")), "weight_decay must be a number >= 0"),
    (dict(schedule="linear"), "schedule must be one of"),
    (dict(aux_weight=-0.3), "aux_weight must be a number >= 0"),
    (dict(label_smoothing=1.0), r"label_smoothing must be a number in \[0, 1\)"),
    (dict(eval_every=0), "eval_every must be a positive integer"),
    (dict(seed=1.5), "seed must be an int"),
    (dict(callback="print"), "callback must be callable"),
    (dict(device="gpu7"), "device must be a torch.device or a name"),
])
def test_bad_arguments(small_loaders, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(TinyNet(), *small_loaders, **kwargs)


def test_bad_inputs(small_loaders):
    train_loader, test_loader = small_loaders
    model = TinyNet()
    with pytest.raises(ValueError, match="fit expects a torch.nn.Module"):
        fit("resnet", *small_loaders)
    with pytest.raises(ValueError, match="fit expects a loader"):
        fit(model, 42)
    with pytest.raises(ValueError, match="test_loader must be a loader"):
        fit(model, train_loader, 42)
    with pytest.raises(ValueError, match="eval_every needs a test_loader"):
        fit(model, train_loader, None, eval_every=5)
    with pytest.raises(ValueError, match="train_loader is empty"):
        fit(model, [])
    with pytest.raises(ValueError, match="predict got an empty loader"):
        evaluate(model, [])
    with pytest.raises(ValueError, match="predict expects a torch.nn.Module"):
        predict(None, test_loader)
    with pytest.raises(ValueError, match="train_one_epoch got an empty loader"):
        train_one_epoch(model, [], make_optimizer(model))
    with pytest.raises(ValueError, match="label_smoothing"):
        train_one_epoch(model, train_loader, make_optimizer(model), label_smoothing=-0.1)
    with pytest.raises(ValueError, match="expected a torch.nn.Module"):
        make_optimizer([nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="momentum must be a number >= 0"):
        make_optimizer(model, momentum=-0.9)
    with pytest.raises(ValueError, match="accuracy must be a fraction"):
        steps_to_reach(History(), 98)
    with pytest.raises(ValueError, match="steps_to_reach expects a History"):
        steps_to_reach({"eval_steps": []}, 0.5)
    with pytest.raises(ValueError, match="step must be an integer >= 0"):
        lr_factor("cosine", -1, 10)
    with pytest.raises(ValueError, match="total_steps must be a positive integer"):
        lr_factor("cosine", 0, 0)
    with pytest.raises(ValueError, match="schedule must be one of"):
        make_scheduler(make_optimizer(model), "linear", 10)
    with pytest.raises(ValueError, match="expected a dict of History fields"):
        History.from_dict({"epochs": [1]})
    with pytest.raises(ValueError, match="seed must be an int"):
        seed_everything("0")
    with pytest.raises(ValueError, match="device must be"):
        as_device(3.5)


# The figures of a training run (inception.plots).

def test_plots(small_loaders):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from inception import plots

    model = TinyNet()
    history = fit(model, *small_loaders, epochs=2, eval_every=4)
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
    with pytest.raises(ValueError, match="expected classes 0 to 9"):
        plots.confusion(targets, targets + 10)
    with pytest.raises(ValueError, match="as tensors"):
        plots.confusion(targets.tolist(), targets)
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        plots.confusion(targets, targets, num_classes=0)
    with pytest.raises(ValueError, match="classes must be a list of class names"):
        plots.confusion_matrix(targets, targets, classes="0123456789")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        plots.misclassified(model, small_loaders[1], n=0)
    with pytest.raises(ValueError, match="layers must be a list of submodule names"):
        plots.feature_maps(model, image, "features.2")
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        plots.feature_maps(model, image, ["features.2"], channels=0)
    with pytest.raises(ValueError, match="steps must be True or False"):
        plots.training_curves(history, steps="yes")
