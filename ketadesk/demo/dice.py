"""The demo's random draws: one home for every stage (patients, sessions, money).

Every draw comes from ``rng.random()`` alone: several times faster than ``choice()`` and
``randrange()``, which matters at a few dozen draws for each of tens of thousands of
patients, and stable across Python versions. A stage makes one :class:`Dice` over its own
stage-seeded :class:`random.Random`, so each stage's draws never shift another's.

A weighted draw from a constant table is prepared once with :func:`table` and drawn with
:meth:`Dice.pick`; :meth:`Dice.weighted` takes a table made on the spot.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from datetime import timedelta
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Table(Generic[T]):
    """Values and their cumulative weights, for :meth:`Dice.pick`."""

    __slots__ = ("cumulative", "values")

    def __init__(self, items: Sequence[tuple[T, float]]) -> None:
        self.values: list[T] = [value for value, _ in items]
        self.cumulative: list[float] = list(accumulate(weight for _, weight in items))


def table(items: Sequence[tuple[T, float]]) -> Table[T]:
    """A weighted table of ``(value, weight)`` pairs, prepared once."""
    return Table(items)


class Dice:
    """Draws from one seeded generator."""

    __slots__ = ("rng",)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chance(self, rate: float) -> bool:
        """True with probability ``rate``."""
        return self.rng.random() < rate

    def below(self, stop: int) -> int:
        """A whole number from 0 up to, not including, ``stop``."""
        return int(self.rng.random() * stop)

    def between(self, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high``, both included."""
        return low + int(self.rng.random() * (high - low + 1))

    def one(self, items: Sequence[T]) -> T:
        """One of ``items``, each as likely."""
        return items[int(self.rng.random() * len(items))]

    def digits(self, count: int) -> str:
        """``count`` random decimal digits."""
        return f"{int(self.rng.random() * 10**count):0{count}d}"

    def minutes(self, low: int, high: int) -> timedelta:
        return timedelta(minutes=self.between(low, high))

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.rng.random()

    def gauss(self, mean: float, spread: float) -> float:
        return self.rng.gauss(mean, spread)

    def pick(self, weighted: Table[T]) -> T:
        """One value of a prepared table, by weight (``rng.choices`` without its overhead)."""
        cumulative = weighted.cumulative
        return weighted.values[bisect(cumulative, self.rng.random() * cumulative[-1])]

    def weighted(self, items: Sequence[tuple[T, float]]) -> T:
        """One value of ``(value, weight)`` pairs, by weight (the table made on the spot)."""
        return self.pick(Table(items))
