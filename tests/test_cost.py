import pytest
import torch
import torchinfo
from torch import nn

from inception.cost import (
    Cost,
    conv2d_cost,
    conv_output_size,
    costs_of,
    count_macs,
    count_parameters,
    grid_sizes,
    linear_cost,
    module_cost,
    output_shape,
    smallest_input_size,
)
from inception.googlenet import GoogLeNet
from inception.layers import BasicConv2d

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize(
    "size, k, s, p, ceil, expected",
    [(224, 7, 2, 3, False, 112), (112, 3, 2, 0, True, 56), (56, 3, 2, 0, True, 28), (28, 3, 2, 0, True, 14),
     (14, 3, 2, 0, True, 7), (14, 3, 2, 0, False, 6), (299, 3, 2, 0, False, 149), (5, 3, 2, 1, True, 3)],
)
def test_conv_output_size_matches_pytorch(size, k, s, p, ceil, expected):
    assert conv_output_size(size, k, s, p, ceil) == expected
    pool = nn.MaxPool2d(k, s, p, ceil_mode=ceil)
    assert pool(torch.zeros(1, 1, size, size)).shape[-1] == expected


def test_conv2d_cost_formula():
    cost = conv2d_cost(192, 64, 1, 28)
    assert cost == Cost(params=192 * 64 + 64, macs=(192 * 64 + 64) * 28 * 28)
    assert conv2d_cost(192, 64, 1, 28, bias=False).params == 192 * 64
    assert conv2d_cost(3, 64, 7, 224, stride=2, padding=3, bias=False).macs == 7 * 7 * 3 * 64 * 112 * 112
    assert conv2d_cost(8, 8, (1, 7), (17, 17), padding=(0, 3), bias=False).macs == 7 * 64 * 17 * 17


def test_linear_cost():
    assert linear_cost(1024, 1000) == Cost(1_025_000, 1_025_000)


def _torchinfo(model, size):
    stats = torchinfo.summary(model, input_size=size, verbose=0, device="cpu")
    return stats.total_params, stats.total_mult_adds


@pytest.mark.parametrize(
    "model, size",
    [
        (nn.Conv2d(3, 16, 3, padding=1), (1, 3, 32, 32)),
        (nn.Conv2d(16, 32, (1, 7), stride=2, padding=(0, 3), bias=False), (1, 16, 17, 17)),
        (BasicConv2d(3, 16, 5, stride=2, padding=2), (1, 3, 28, 28)),
        (nn.Sequential(BasicConv2d(3, 8, 3, batch_norm=False), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 7 * 7, 10)),
         (1, 3, 16, 16)),
    ],
)
def test_module_cost_agrees_with_torchinfo(model, size):
    params, macs = _torchinfo(model, size)
    assert module_cost(model, size) == Cost(params, macs)
    assert count_parameters(model) == params
    assert count_macs(model, size) == macs


def test_shape_formulas_agree_with_module_cost():
    conv = nn.Conv2d(192, 96, 3, padding=1)
    assert module_cost(conv, (1, 192, 28, 28)) == conv2d_cost(192, 96, 3, 28, padding=1)
    fc = nn.Linear(1024, 1000)
    assert module_cost(fc, (1, 1024)) == linear_cost(1024, 1000)


def test_macs_are_per_image():
    conv = nn.Conv2d(3, 4, 3)
    assert count_macs(conv, (4, 3, 8, 8)) == count_macs(conv, (1, 3, 8, 8))


def test_count_trainable_parameters():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    model[0].requires_grad_(False)
    assert count_parameters(model) == 20 + 10
    assert count_parameters(model, trainable_only=True) == 10


def test_costs_of_named_submodules():
    model = nn.Sequential()
    model.add_module("a", nn.Conv2d(3, 4, 3, padding=1))
    model.add_module("b", nn.Conv2d(4, 2, 1))
    costs = costs_of(model, (1, 3, 8, 8), ["a", "b"])
    assert costs["a"] == conv2d_cost(3, 4, 3, 8, padding=1)
    assert costs["b"] == conv2d_cost(4, 2, 1, 8)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: conv_output_size(5, 9), "a 9-wide kernel does not fit an input of 5 padded by 0"),
        (lambda: conv2d_cost(3, 8, 7, 4, padding=1), "a 7-wide kernel does not fit an input of 4 padded by 1"),
        (lambda: conv2d_cost(0, 8, 3, 8), "in_channels must be a positive integer, got 0"),
        (lambda: conv2d_cost(3, 8, 3, 8, stride=0), "stride must be >= 1"),
        (lambda: linear_cost(10, -2), "out_features must be a positive integer, got -2"),
        (lambda: count_parameters("resnet"), "expected a torch.nn.Module, got str"),
        (lambda: module_cost(nn.Conv2d(3, 4, 3), (3, 8, 8, "x")), "input_size must be a tuple of positive ints"),
        (lambda: costs_of(nn.Sequential(nn.ReLU()), (1, 2), ["nope"]), "has no submodule named"),
    ],
)
def test_cost_helpers_reject_impossible_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_ceil_mode_window_may_hang_over_the_edge_like_pytorch():
    # a 3×3/2 pool in ceil mode still gives 1×1 from a 2×2 grid, but nothing from a 1×1 grid
    assert conv_output_size(2, 3, 2, 0, ceil_mode=True) == 1
    assert nn.MaxPool2d(3, 2, ceil_mode=True)(torch.zeros(1, 1, 2, 2)).shape[-1] == 1
    with pytest.raises(ValueError, match="leaves no output on an input of 1"):
        conv_output_size(1, 3, 2, 0, ceil_mode=True)
    with pytest.raises(RuntimeError):
        nn.MaxPool2d(3, 2, ceil_mode=True)(torch.zeros(1, 1, 1, 1))


# --- shapes measured on the meta device: output_shape, smallest_input_size, grid_sizes -----------------------

class Net(nn.Sequential):
    """A small network with the ``in_channels`` attribute grid_sizes reads."""

    def __init__(self, *layers: nn.Module, in_channels: int = 3) -> None:
        super().__init__(*layers)
        self.in_channels = in_channels


def _conv_pool_net() -> Net:
    return Net(BasicConv2d(3, 8, 5, stride=2, padding=1), nn.MaxPool2d(3, 2, ceil_mode=True),
               BasicConv2d(8, 4, (1, 3), padding=(0, 1)), nn.AvgPool2d(2))


def _conv_pool_by_hand(h: int, w: int) -> tuple[int, int]:
    sides = []
    for n in (h, w):
        n = conv_output_size(n, 5, 2, 1)
        n = conv_output_size(n, 3, 2, 0, ceil_mode=True)
        sides.append(conv_output_size(n, 2, 2))
    return tuple(sides)


@pytest.mark.parametrize(("h", "w"), [(9, 9), (17, 13), (32, 64), (9, 100)])
def test_output_shape_agrees_with_the_arithmetic(h, w):
    assert output_shape(_conv_pool_net(), (2, 3, h, w)) == (2, 4, *_conv_pool_by_hand(h, w))
    assert output_shape(nn.Conv2d(3, 16, (1, 7), stride=(1, 2), padding=(0, 3)), (1, 3, h, w)) == (
        1, 16, h, conv_output_size(w, 7, 2, 3))
    assert output_shape(nn.Linear(h, w), (5, h)) == (5, w)


def test_output_shape_computes_nothing_and_leaves_the_module_as_it_was():
    net = _conv_pool_net().train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assert output_shape(net, (4, 3, 64, 64)) == (4, 4, 7, 7)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # BN's running stats untouched
    assert all(p.device.type == "cpu" for p in net.parameters()) and net.training
    assert not any("forward" in vars(m) for m in net.modules())  # the pass-through patches are undone
    x = torch.randn(2, 3, 16, 16)
    assert net(x).shape == (2, 4, *_conv_pool_by_hand(16, 16))


def test_output_shape_of_a_network_in_training_mode_is_the_logits_shape():
    net = GoogLeNet(num_classes=10, image_size=32).train()
    assert output_shape(net, (2, 3, 32, 32)) == (2, 10)
    assert output_shape(net.eval(), (2, 3, 100, 40)) == (2, 10)


def test_output_shape_of_a_too_small_input_raises():
    with pytest.raises(RuntimeError):
        output_shape(nn.Conv2d(3, 4, 3), (1, 3, 2, 2))
    with pytest.raises(ValueError, match="at least 31×31 pixels, got 30×30"):
        output_shape(GoogLeNet(aux_logits=False), (1, 3, 30, 30))


@pytest.mark.parametrize(("module", "in_channels", "by_hand"), [
    (nn.Conv2d(3, 4, 3), 3, 3),
    (nn.Conv2d(3, 4, 5, padding=1), 3, 3),
    (nn.Conv2d(1, 4, 7, padding=3), 1, 1),
    (nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.Conv2d(4, 4, 3)), 3, None),
    (nn.MaxPool2d(3, 2, ceil_mode=True), 2, None),
    (nn.MaxPool2d(3, 2), 2, 3),
    (_conv_pool_net(), 3, None),
])
def test_smallest_input_size_agrees_with_the_arithmetic(module, in_channels, by_hand):
    def fits(n: int) -> bool:
        try:
            for m in (module if isinstance(module, nn.Sequential) else [module]):
                m = m.conv if isinstance(m, BasicConv2d) else m
                k, s, p = (m.kernel_size, m.stride, m.padding)
                k, s, p = (v[0] if isinstance(v, tuple) else v for v in (k, s, p))
                n = conv_output_size(n, k, s, p, ceil_mode=getattr(m, "ceil_mode", False))
        except ValueError:
            return False
        return True

    expected = next(n for n in range(1, 100) if fits(n))
    assert by_hand in (None, expected)
    module.train()
    assert smallest_input_size(module, in_channels) == expected
    assert module.training  # measured in eval mode, the mode restored


def test_smallest_input_size_of_the_networks():
    assert smallest_input_size(GoogLeNet(aux_logits=False), 3) == 31
    assert smallest_input_size(nn.MaxPool2d(3, 2, ceil_mode=True), 1) == 2  # PyTorch's ceil-mode rule


def test_grid_sizes_of_named_layers():
    net = _conv_pool_net()
    for size in (9, 17, 64):
        first = conv_output_size(size, 5, 2, 1)
        pooled = conv_output_size(first, 3, 2, 0, ceil_mode=True)
        assert grid_sizes(net, size, ["0", "1", "2", "3"]) == {"0": first, "1": pooled, "2": pooled,
                                                                "3": _conv_pool_by_hand(size, size)[0]}
    assert grid_sizes(net, 9, []) == {}
    net.train()
    grid_sizes(net, 9, ["0"])
    assert net.training


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: output_shape("conv", (1, 3, 8, 8)), "expected a torch.nn.Module, got str"),
        (lambda: output_shape(nn.Conv2d(3, 4, 3), (1, 3, 8, 0)), "input_size must be a tuple of positive ints"),
        (lambda: output_shape(nn.Conv2d(3, 4, 3), 8), "input_size must be a tuple of positive ints"),
        (lambda: smallest_input_size(nn.Conv2d(3, 4, 3), 0), "in_channels must be a positive integer, got 0"),
        (lambda: smallest_input_size(nn.Conv2d(3, 4, 3), 3, limit=0), "limit must be a positive integer, got 0"),
        (lambda: smallest_input_size([nn.Conv2d(3, 4, 3)], 3), "expected a torch.nn.Module, got list"),
        (lambda: smallest_input_size(nn.Conv2d(3, 4, 9), 3, limit=8),
         r"Conv2d does not run on a 8×8 input; expected a module that accepts 3-channel images of at most 8"),
        (lambda: smallest_input_size(nn.Linear(3, 4), 3), "Linear does not run on a 1024×1024 input"),
        (lambda: grid_sizes(_conv_pool_net(), 8, ["conv"]), r"Net has no submodule named \['conv'\]"),
        (lambda: grid_sizes(_conv_pool_net(), 4, ["0"]), r"Net does not run on 4×4 inputs"),
        (lambda: grid_sizes(_conv_pool_net(), 0, ["0"]), "image_size must be a positive integer, got 0"),
        (lambda: grid_sizes(nn.Sequential(nn.Conv2d(3, 4, 3)), 8, ["0"]),
         "Sequential.in_channels must be a positive integer, got None"),
        (lambda: grid_sizes("net", 8, ["0"]), "expected a torch.nn.Module, got str"),
    ],
)
def test_shape_helpers_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_grid_sizes_of_a_layer_that_does_not_run_is_a_value_error():
    """In eval mode the auxiliary heads do not run, so they have no grid: that is a ValueError that says so,
    not a KeyError from inside grid_sizes."""
    net = GoogLeNet(num_classes=10, image_size=64)
    with pytest.raises(ValueError, match="aux1"):
        grid_sizes(net, 64, ["inception4a", "aux1"])
