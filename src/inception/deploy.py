"""Making a trained network fast and small for inference: folding batch normalization into convolutions.

In eval mode a batch normalization is a fixed affine map per channel (Ioffe & Szegedy 2015, Sec. 3.1,
Algorithm 2, line 11). For channel c of its input x, with the statistics the layer holds, E[x_c] and
Var[x_c] (in PyTorch ``running_mean`` and ``running_var``: moving averages taken during training, where
Algorithm 2 averages over mini-batches after training), and a_c = γ_c / √(Var[x_c] + ε):

    BN(x_c) = a_c · (x_c − E[x_c]) + β_c,    x = W ∗ h + b   (the convolution before it, input h)

so ``BN(conv(h))`` is one convolution with, per output channel c, the weights and bias

    W'_c = a_c · W_c
    b'_c = a_c · (b_c − E[x_c]) + β_c

:func:`fold_batch_norm` rewrites every :class:`~inception.layers.BasicConv2d` that way: the network
computes the same function in eval mode (to float rounding), with fewer layers and no BN parameters.
The folding is exact for whatever statistics the layer holds.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from inception.layers import BasicConv2d
from inception.validation import check_module


@torch.no_grad()
def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """One ``nn.Conv2d`` computing ``bn(conv(x))`` in eval mode (BN's running statistics)."""
    if not isinstance(conv, nn.Conv2d) or not isinstance(bn, nn.BatchNorm2d):
        raise ValueError(f"expected an nn.Conv2d and an nn.BatchNorm2d, got {type(conv).__name__} "
                         f"and {type(bn).__name__}")
    if bn.num_features != conv.out_channels or bn.running_mean is None:
        raise ValueError(f"expected a BN with running statistics over the convolution's {conv.out_channels} "
                         f"channels, got num_features={bn.num_features}, running stats {bn.running_mean is not None}")
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.affine:
        scale = scale * bn.weight
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                       conv.dilation, conv.groups, bias=True, padding_mode=conv.padding_mode)
    folded.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    shift = bn.bias if bn.affine else torch.zeros_like(bn.running_mean)
    folded.bias.copy_((bias - bn.running_mean) * scale + shift)
    return folded.to(conv.weight.device, conv.weight.dtype)


def fold_batch_norm(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode in which every ``BasicConv2d``'s BN is folded into its convolution.

    The copy computes what ``model.eval()`` computes (to about 1e-5 relative), has no BN layers left in
    its ``BasicConv2d``s and fewer parameters (γ, β and the statistics are gone; each convolution gains a
    bias). ``model`` itself is not changed. Only meaningful for inference: the folded network no longer
    normalizes by batch statistics in training.
    """
    check_module(model)
    folded = copy.deepcopy(model).eval()
    for layer in folded.modules():
        if isinstance(layer, BasicConv2d) and layer.bn is not None:
            layer.conv = fold_conv_bn(layer.conv, layer.bn)
            layer.bn = None
    return folded
