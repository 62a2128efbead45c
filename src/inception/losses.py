"""Losses: the auxiliary-classifier loss of GoogLeNet (and of the networks after it).

GoogLeNet adds the losses of its two auxiliary classifiers to the main loss "with a discount weight
(the losses of the auxiliary classifiers were weighted by 0.3)" (Szegedy et al. 2014, Sec. 5).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from inception.layers import InceptionOutputs
from inception.validation import check_non_negative, check_positive_int, check_probability


def auxiliary_loss(outputs: torch.Tensor | InceptionOutputs, target: torch.Tensor, aux_weight: float = 0.3,
                   label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy of the main logits plus ``aux_weight`` times that of each auxiliary head.

    ``outputs`` is what a network returns: logits alone (eval mode, or no auxiliary heads), or
    :class:`~inception.layers.InceptionOutputs` in training mode. Works for every network in the book.
    """
    check_non_negative("aux_weight", aux_weight)
    check_probability("label_smoothing", label_smoothing)
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


# Label smoothing, written out (Szegedy et al. 2016, Sec. 7, "Model Regularization via Label Smoothing").

def smooth_labels(target: torch.Tensor, num_classes: int, epsilon: float = 0.1) -> torch.Tensor:
    """The smoothed target distribution q'(k) = (1 − ε)·δ(k, y) + ε / K for each label y.

    Returns a float tensor of shape (N, K) whose rows sum to 1: the true class gets 1 − ε + ε/K, every
    other class ε/K (with K = 1000 and ε = 0.1: 0.9001 and 0.0001). This is the paper's q'(k) with the
    uniform prior u(k) = 1/K, and what ``nn.CrossEntropyLoss(label_smoothing=ε)`` uses.
    """
    check_positive_int("num_classes", num_classes)
    check_probability("epsilon", epsilon)
    if not isinstance(target, torch.Tensor) or target.dim() != 1 or target.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"target must be a 1-d tensor of integer class labels, got "
                         f"{type(target).__name__} {getattr(target, 'shape', '')}")
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes - 1}], got labels from {target.min().item()} "
                         f"to {target.max().item()}")
    one_hot = F.one_hot(target.long(), num_classes).float()
    return (1.0 - epsilon) * one_hot + epsilon / num_classes


def label_smoothing_cross_entropy(logits: torch.Tensor, target: torch.Tensor, epsilon: float = 0.1) -> torch.Tensor:
    """Cross-entropy against smoothed labels, averaged over the batch: −Σ_k q'(k) log p(k).

    Equal to ``nn.CrossEntropyLoss(label_smoothing=epsilon)(logits, target)``; ``epsilon = 0`` gives the
    ordinary cross-entropy.
    """
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        raise ValueError(f"logits must be a tensor of shape (N, classes), got {getattr(logits, 'shape', logits)!r}")
    if not isinstance(target, torch.Tensor) or target.shape != logits.shape[:1]:
        raise ValueError(f"expected targets of shape ({logits.shape[0]},) for logits of shape "
                         f"{tuple(logits.shape)}, got {getattr(target, 'shape', target)!r}")
    q = smooth_labels(target, logits.shape[1], epsilon)
    return -(q * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


__all__ += ["label_smoothing_cross_entropy", "smooth_labels"]
