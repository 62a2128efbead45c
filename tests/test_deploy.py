"""Folding batch normalization into the convolutions: same function in eval mode, no BN left."""

import pytest
import torch
from torch import nn

from inception.bn_inception import BNInception
from inception.cost import count_parameters
from inception.customizing import InceptionV2Config, build_inception_v2
from inception.deploy import fold_batch_norm, fold_conv_bn
from inception.googlenet import GoogLeNet
from inception.layers import BasicConv2d


def _randomize_bn(model: nn.Module, seed: int = 0) -> None:
    """Non-trivial BN statistics and affine parameters, as after training."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


@pytest.mark.parametrize("build, size", [
    (lambda: BNInception(num_classes=10, in_channels=1, image_size=16), 16),
    (lambda: GoogLeNet(num_classes=10, in_channels=1, batch_norm=True, aux_logits=False, image_size=32), 32),
    (lambda: build_inception_v2(InceptionV2Config(num_classes=10, in_channels=1, image_size=8, stem="small",
                                                  width=0.25, fig5_modules=1, fig6_modules=1, fig7_modules=1,
                                                  fig6_n=3)), 8),
])
def test_folded_network_computes_the_same_function(one_thread, build, size):
    torch.manual_seed(0)
    model = build()
    _randomize_bn(model)
    model.eval()
    folded = fold_batch_norm(model)
    x = torch.randn(4, 1, size, size)
    with torch.no_grad():
        expected, got = model(x), folded(x)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-5), (got - expected).abs().max()
    assert all(layer.bn is None for layer in folded.modules() if isinstance(layer, BasicConv2d))
    assert count_parameters(folded) < count_parameters(model)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # the original is untouched


def test_fold_conv_bn_matches_bn_of_conv():
    torch.manual_seed(1)
    conv, bn = nn.Conv2d(3, 5, 3, padding=1, bias=True), nn.BatchNorm2d(5, eps=1e-3)
    _randomize_bn(bn)
    bn.eval()
    x = torch.randn(2, 3, 7, 7)
    with torch.no_grad():
        assert torch.allclose(fold_conv_bn(conv, bn)(x), bn(conv(x)), atol=1e-5)


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="expected an nn.Conv2d and an nn.BatchNorm2d"):
        fold_conv_bn(nn.Linear(2, 2), nn.BatchNorm2d(2))
    with pytest.raises(ValueError, match="running statistics over the convolution's 4 channels"):
        fold_conv_bn(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(5))
    with pytest.raises(ValueError, match="expected a torch.nn.Module"):
        fold_batch_norm("not a model")
