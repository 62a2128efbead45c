"""inception.batchnorm.BatchNorm2d equals torch.nn.BatchNorm2d: training and eval, forward and backward."""

import pytest
import torch
from torch import nn

from inception.batchnorm import BatchNorm2d, check_bn_input
from inception.diagrams import flowchart, mermaid_source, trace

TOL = dict(atol=1e-5, rtol=1e-5)

pytestmark = pytest.mark.usefixtures("one_thread")


def _pair(momentum=0.1, affine=True, track=True, channels=3, seed=0):
    torch.manual_seed(seed)
    ours = BatchNorm2d(channels, momentum=momentum, affine=affine, track_running_stats=track)
    theirs = nn.BatchNorm2d(channels, momentum=momentum, affine=affine, track_running_stats=track)
    if affine:  # a non-trivial scale and shift, the same in both
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.uniform_(-0.5, 0.5)
        ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _batches(steps=5, shape=(8, 3, 5, 5), seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=g) * 2 + 3 for _ in range(steps)]


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_training_forward_backward_and_running_statistics(momentum):
    ours, theirs = _pair(momentum)
    for x in _batches():
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        ya, yb = ours(xa), theirs(xb)
        torch.testing.assert_close(ya, yb, **TOL)
        upstream = torch.randn_like(ya)
        (ya * upstream).sum().backward()
        (yb * upstream).sum().backward()
        torch.testing.assert_close(xa.grad, xb.grad, **TOL)
        torch.testing.assert_close(ours.weight.grad, theirs.weight.grad, **TOL)
        torch.testing.assert_close(ours.bias.grad, theirs.bias.grad, **TOL)
        ours.zero_grad()
        theirs.zero_grad()
    torch.testing.assert_close(ours.running_mean, theirs.running_mean, **TOL)
    torch.testing.assert_close(ours.running_var, theirs.running_var, **TOL)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 5


def test_eval_mode_uses_running_statistics_forward_and_backward():
    ours, theirs = _pair()
    for x in _batches():
        ours(x), theirs(x)
    ours.eval(), theirs.eval()
    x = torch.randn(4, 3, 5, 5)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = ours(xa), theirs(xb)
    torch.testing.assert_close(ya, yb, **TOL)
    ya.sum().backward()
    yb.sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, **TOL)
    before = ours.running_mean.clone()
    ours(torch.randn(4, 3, 5, 5))
    assert torch.equal(ours.running_mean, before), "eval mode must not update the running statistics"


def test_without_affine_or_running_statistics():
    for affine, track in [(False, True), (True, False), (False, False)]:
        ours, theirs = _pair(affine=affine, track=track)
        x = torch.randn(6, 3, 4, 4)
        torch.testing.assert_close(ours(x), theirs(x), **TOL)
        ours.eval(), theirs.eval()
        torch.testing.assert_close(ours(x), theirs(x), **TOL)


def test_cumulative_average_is_the_papers_population_statistics():
    ours, _ = _pair(momentum=None)
    batches = _batches(steps=6)
    for x in batches:
        ours(x)
    m = batches[0].numel() // batches[0].shape[1]
    means = torch.stack([x.mean(dim=(0, 2, 3)) for x in batches])
    variances = torch.stack([x.var(dim=(0, 2, 3), unbiased=False) for x in batches])
    torch.testing.assert_close(ours.running_mean, means.mean(0), **TOL)
    torch.testing.assert_close(ours.running_var, m / (m - 1) * variances.mean(0), **TOL)


def test_training_output_is_normalized_then_scaled_and_shifted():
    bn = BatchNorm2d(2)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([2.0, 3.0]))
        bn.bias.copy_(torch.tensor([-1.0, 4.0]))
    y = bn(torch.randn(16, 2, 3, 3) * 5 + 7)
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.tensor([-1.0, 4.0]), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.std(dim=(0, 2, 3), unbiased=False), torch.tensor([2.0, 3.0]), atol=1e-3, rtol=0)


def test_state_dict_keys_match_pytorch():
    assert list(BatchNorm2d(4).state_dict()) == list(nn.BatchNorm2d(4).state_dict())


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_features=0), "num_features must be a positive integer, got 0"),
    (dict(num_features=3.0), "num_features must be a positive integer, got 3.0"),
    (dict(num_features=3, eps=0), "eps must be a number > 0, got 0"),
    (dict(num_features=3, eps=-1e-5), "eps must be a number > 0, got -1e-05"),
    (dict(num_features=3, momentum=1.5), r"momentum must be a number in \[0, 1\] or None"),
    (dict(num_features=3, momentum="fast"), "momentum must be"),
    (dict(num_features=3, momentum=True), "momentum must be"),
    (dict(num_features=4, affine="yes"), "affine must be True or False, got 'yes'"),
    (dict(num_features=4, track_running_stats=0), "track_running_stats must be True or False, got 0"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchNorm2d(**kwargs)


def test_bad_input():
    bn = BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"expects 3 channels, got 4"):
        bn(torch.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\), got shape \(2, 3\)"):
        bn(torch.randn(2, 3))
    with pytest.raises(ValueError, match="expects a torch.Tensor, got list"):
        bn([1.0, 2.0])
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(torch.randn(1, 3, 1, 1))
    with pytest.raises(ValueError, match=r"floating-point batch, got torch.int64; convert it with x\.float\(\)"):
        bn(torch.zeros(2, 3, 4, 4, dtype=torch.int64))
    bn.eval()
    assert bn(torch.randn(1, 3, 1, 1)).shape == (1, 3, 1, 1)  # eval mode needs no batch statistics


def test_momentum_none_and_one():
    bn = BatchNorm2d(3, momentum=1.0)
    x = torch.randn(8, 3, 4, 4)
    bn(x)
    torch.testing.assert_close(bn.running_mean, x.mean(dim=(0, 2, 3)))  # momentum 1: the last batch only
    assert BatchNorm2d(3, momentum=None).momentum is None and BatchNorm2d(3, momentum=0).momentum == 0


def test_traces_as_one_opaque_check():
    graph = trace(BatchNorm2d(3), leaves=()).graph
    checks = [n for n in graph.nodes if n.op == "call_function" and n.target is check_bn_input]
    assert len(checks) == 1 and not checks[0].users
    assert "check" not in mermaid_source(flowchart(BatchNorm2d(3), leaves=()))


def test_small_cnn_of_the_experiment():
    from inception.bn_experiment import SmallCNN

    plain, with_bn = SmallCNN(batch_norm=False), SmallCNN(batch_norm=True)
    assert plain.min_input_size == with_bn.min_input_size == 2  # the 2×2 max pool
    x = torch.randn(4, 1, 8, 8)
    assert plain(x).shape == with_bn(x).shape == (4, 10)
    assert sum(p.numel() for p in plain.parameters()) == 16_698
    assert sum(p.numel() for p in with_bn.parameters()) == 16_794
    assert with_bn.eval()(torch.randn(1, 1, 2, 2)).shape == (1, 10)
    with pytest.raises(ValueError, match=r"at least 2×2 pixels, got 1×1"):
        plain(torch.randn(1, 1, 1, 1))
    with pytest.raises(ValueError, match="expects 1 input channels?, got 3"):
        plain(torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError, match="widths must give the channels of the 4 convolutions"):
        SmallCNN(widths=(8, 8))
    with pytest.raises(ValueError, match="batch_norm must be True or False"):
        SmallCNN(batch_norm=1)
