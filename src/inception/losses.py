"""Losses: the auxiliary-classifier loss of GoogLeNet (and of the networks after it).

GoogLeNet adds the losses of its two auxiliary classifiers to the main loss "with a discount weight
(the losses of the auxiliary classifiers were weighted by 0.3)" (Szegedy et al. 2014, Sec. 5).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from inception.layers import InceptionOutputs


def auxiliary_loss(outputs: torch.Tensor | InceptionOutputs, target: torch.Tensor, aux_weight: float = 0.3,
                   label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy of the main logits plus ``aux_weight`` times that of each auxiliary head.

    ``outputs`` is what a network returns: logits alone (eval mode, or no auxiliary heads), or
    :class:`~inception.layers.InceptionOutputs` in training mode. Works for every network in the book.
    """
    if not 0.0 <= aux_weight:
        raise ValueError(f"aux_weight must be >= 0, got {aux_weight}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    if isinstance(outputs, InceptionOutputs):
        logits, aux = outputs.logits, outputs.aux_logits
    elif isinstance(outputs, torch.Tensor):
        logits, aux = outputs, ()
    else:
        raise ValueError(f"expected logits or InceptionOutputs, got {type(outputs).__name__}")
    if logits.dim() != 2 or target.shape != logits.shape[:1]:
        raise ValueError(f"expected logits of shape (N, classes) and targets of shape (N,), got "
                         f"{tuple(logits.shape)} and {tuple(target.shape)}")
    loss = F.cross_entropy(logits, target, label_smoothing=label_smoothing)
    for a in aux:
        loss = loss + aux_weight * F.cross_entropy(a, target, label_smoothing=label_smoothing)
    return loss


__all__ = ["auxiliary_loss"]
