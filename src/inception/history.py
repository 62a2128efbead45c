"""What :func:`inception.training.fit` measures, epoch by epoch: the :class:`History` of a training run."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass
class History:
    """What ``fit`` measured. Per epoch (lists of the same length as ``epoch``):

    - ``train_loss``, ``train_accuracy``: averaged over the epoch's training images, as the network
      was changing (with augmentation, dropout and the auxiliary losses if any);
    - ``test_loss``, ``test_accuracy``: on the test loader after the epoch (``nan`` without one);
    - ``seconds``: time spent training in the epoch, evaluations excluded;
    - ``lr``: learning rate at the end of the epoch; ``steps``: optimizer steps done so far.

    With ``fit(..., eval_every=N)`` also, every N optimizer steps, ``eval_steps`` (the step) and
    ``eval_accuracy`` (test accuracy at that step): accuracy against steps.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_accuracy: list[float] = field(default_factory=list)

    def add_epoch(self, train: dict[str, float], test: dict[str, float] | None, lr: float) -> None:
        """Append one epoch: ``train`` as :func:`inception.training.train_one_epoch` returns it, ``test`` as
        :func:`inception.training.evaluate`
        does (``None``: not evaluated), ``lr`` the learning rate at the end of the epoch."""
        test = test if test is not None else {"loss": math.nan, "accuracy": math.nan}
        self.epoch.append(len(self.epoch) + 1)
        self.train_loss.append(train["loss"])
        self.train_accuracy.append(train["accuracy"])
        self.test_loss.append(test["loss"])
        self.test_accuracy.append(test["accuracy"])
        self.seconds.append(train["seconds"])
        self.lr.append(lr)
        self.steps.append((self.steps[-1] if self.steps else 0) + int(train["steps"]))

    @property
    def total_seconds(self) -> float:
        """Training time over all epochs (evaluations excluded)."""
        return float(sum(self.seconds))

    @property
    def best_accuracy(self) -> float:
        """Best test accuracy seen, per epoch or per evaluation step."""
        seen = [a for a in self.test_accuracy + self.eval_accuracy if not math.isnan(a)]
        return max(seen) if seen else math.nan

    def to_dict(self) -> dict[str, list]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> History:
        if not isinstance(data, dict) or not set(data) <= set(cls.__dataclass_fields__):
            raise ValueError(f"expected a dict of History fields {list(cls.__dataclass_fields__)}, got {data!r:.200}")
        return cls(**{k: list(v) for k, v in data.items()})

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        if not self.epoch:
            return "History(no epochs)"
        return (f"History({len(self)} epochs, last: train loss {self.train_loss[-1]:.4f}, "
                f"test accuracy {self.test_accuracy[-1]:.4f})")
