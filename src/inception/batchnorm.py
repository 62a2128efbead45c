"""Batch normalization written out by hand (Ioffe & Szegedy 2015, Algorithm 1 and Sec. 3.1).

For each channel ``c`` of a batch ``x`` of shape (N, C, H, W), in training mode:

    μ_B  = mean of x[:, c] over the N·H·W values of the batch         (Algorithm 1, line 1)
    σ²_B = mean of (x[:, c] − μ_B)²  (the biased variance)            (line 2)
    x̂    = (x − μ_B) / sqrt(σ²_B + ε)                                 (line 3)
    y    = γ·x̂ + β   (the learned scale and shift)                    (line 4)

In eval mode μ_B and σ²_B are replaced by estimates of the population's mean and variance. Two ways
to form them, side by side:

* the paper (Algorithm 2, line 10): average μ_B over many training mini-batches and average σ²_B,
  times m/(m−1) for an unbiased estimate (m = values per channel in a batch);
* PyTorch: an exponential moving average updated at every training step,
  ``running = (1 − momentum)·running + momentum·batch`` with ``momentum=0.1``, where the batch
  variance is the unbiased one. With ``momentum=None`` PyTorch (and this class) keeps the plain
  cumulative average of all batches instead.

The cumulative average is the paper's estimate only when every batch goes through the same network:
Algorithm 2 averages *after* training, on the trained network "with frozen parameters" (line 7), not
over the changing networks of a training run. So it is a separate pass: ``reset_running_stats()``,
``momentum=None``, then training batches through the network in training mode under ``torch.no_grad()``
(no optimizer step); ``torch.optim.swa_utils.update_bn(loader, model)`` does exactly that for
``torch.nn`` BN layers. For a convolution, m = N·H·W (Sec. 3.2 only says Algorithm 2 "is modified
similarly"; counting every value of a channel is PyTorch's convention).

:class:`BatchNorm2d` follows PyTorch's convention, so it matches ``torch.nn.BatchNorm2d`` in training and
eval mode, forward and backward, and its ``state_dict`` has the same keys.
"""

from __future__ import annotations

import torch
import torch.fx
from torch import nn

from inception.validation import check_flag, check_positive, check_positive_int


@torch.fx.wrap
def check_bn_input(x: torch.Tensor, num_features: int, batch_statistics: bool) -> None:
    """``x`` is an (N, C, H, W) float batch with ``num_features`` channels, and (with batch statistics)
    more than one value per channel. An opaque call when ``torch.fx`` traces the layer."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"BatchNorm2d expects a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"BatchNorm2d expects a batch of shape (N, C, H, W), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"BatchNorm2d expects a floating-point batch, got {x.dtype}; convert it with x.float()")
    if x.shape[1] != num_features:
        raise ValueError(f"BatchNorm2d expects {num_features} channels, got {x.shape[1]} (shape {tuple(x.shape)})")
    if batch_statistics and x.shape[0] * x.shape[2] * x.shape[3] < 2:
        raise ValueError(f"batch statistics need more than 1 value per channel, got shape {tuple(x.shape)}; "
                         "use a larger batch or eval mode")


class BatchNorm2d(nn.Module):
    """Batch normalization over the channels of an (N, C, H, W) batch, written out by hand.

    Args:
        num_features: C, the number of channels.
        eps: ε, added to the variance before the square root (PyTorch's default 1e-5).
        momentum: weight of the newest batch in the running statistics (PyTorch's convention, default
            0.1), or ``None`` for the cumulative average over all batches seen (the paper's population
            statistics, Algorithm 2, when run over training batches after training, on the frozen network).
        affine: learn the scale γ (``weight``) and shift β (``bias``), Algorithm 1 line 4.
        track_running_stats: keep running statistics for eval mode; if ``False``, batch statistics are
            used in eval mode too.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        check_positive_int("num_features", num_features)
        check_positive("eps", eps)
        check_flag("affine", affine)
        check_flag("track_running_stats", track_running_stats)
        if momentum is not None and (isinstance(momentum, bool) or not isinstance(momentum, int | float)
                                     or not 0.0 <= momentum <= 1.0):
            raise ValueError(f"momentum must be a number in [0, 1] or None (cumulative average), got {momentum!r}")
        self.num_features = num_features
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))   # γ
            self.bias = nn.Parameter(torch.zeros(num_features))    # β
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _uses_batch_statistics(self) -> bool:
        return self.training or not self.track_running_stats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_bn_input(x, self.num_features, self._uses_batch_statistics())
        if self._uses_batch_statistics():
            mean = x.mean(dim=(0, 2, 3))                                   # μ_B
            var = ((x - mean[None, :, None, None]) ** 2).mean(dim=(0, 2, 3))  # σ²_B (biased)
            if self.training and self.track_running_stats:
                self._update_running_statistics(mean, var, x.numel() // x.shape[1])
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + self.eps)
        if self.affine:
            return self.weight[None, :, None, None] * x_hat + self.bias[None, :, None, None]
        return x_hat

    @torch.no_grad()
    def _update_running_statistics(self, mean: torch.Tensor, var: torch.Tensor, m: int) -> None:
        self.num_batches_tracked += 1
        # the cumulative average (the paper) weighs the n-th batch by 1/n
        factor = 1.0 / self.num_batches_tracked.item() if self.momentum is None else self.momentum
        unbiased = var * m / (m - 1)                                        # Algorithm 2, line 10
        self.running_mean.mul_(1 - factor).add_(factor * mean)
        self.running_var.mul_(1 - factor).add_(factor * unbiased)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


__all__ = ["BatchNorm2d", "check_bn_input"]
