"""Growth tests: assert that a function's cost grows linearly with its input.

Wall-clock limits break on a loaded machine and miss quadratic code that is still fast
on small inputs. A growth test instead times the same function on an input of size n
and on one of size 2n, in the same test, and asserts that the larger one costs less
than ``ratio`` (3 by default) times the smaller: linear or n·log n code doubles,
quadratic code quadruples.

Usage::

    from tests.growth import assert_linear

    def test_render_is_linear_on_unclosed_brackets() -> None:
        assert_linear(lambda n: "[[a " * n, render.render_markdown, n=2_000)

``build(n)`` makes the input of size n (it is not timed); ``run(input)`` is what is
timed. To stay robust on a small, busy machine:

- times are CPU time of this process (``time.process_time``), so other processes
  taking the cores do not count;
- the garbage collector is paused while timing (its passes depend on the whole heap,
  not on the function under test);
- one warm-up run fills caches and lazy imports first;
- n grows until one run at n takes at least ``min_seconds``, so that the fixed costs
  of a call do not hide the growth, but 2n never goes beyond ``max_n``;
- the two sizes are timed alternately, several times, and the minimum of each is kept:
  noise only ever adds time.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Under this, a run's time is mostly timer resolution and call overhead.
MIN_SECONDS = 0.05
#: A ratio this far above any limit is growth, not noise: stop repeating.
_HOPELESS = 12.0


def cpu_time(run: Callable[[T], object], value: T) -> float:
    """CPU seconds spent by ``run(value)``, with the garbage collector paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.process_time()
        run(value)
        return time.process_time() - start
    finally:
        if enabled:
            gc.enable()


def growth_ratio(
    build: Callable[[int], T],
    run: Callable[[T], object],
    n: int,
    *,
    repeats: int = 5,
    min_seconds: float = MIN_SECONDS,
    max_n: int | None = None,
) -> tuple[int, float, float]:
    """Time ``run`` on ``build(n)`` and ``build(2n)``: (n used, best time at n, at 2n).

    n first grows until a run takes ``min_seconds`` (with 2n at most ``max_n``).
    """
    run(build(n))  # warm-up: imports, compiled regexes, thread-local state
    largest = max_n // 2 if max_n is not None else None
    while (spent := cpu_time(run, build(n))) < min_seconds and (largest is None or n < largest):
        # Jump to about the size that takes min_seconds (at most 16 times bigger at once).
        factor = min(16.0, max(1.25, 1.2 * min_seconds / max(spent, 1e-4)))
        n = max(n + 1, int(n * factor))
        n = n if largest is None else min(n, largest)
    small, large = build(n), build(2 * n)
    best_small = best_large = float("inf")
    for _ in range(repeats):
        best_small = min(best_small, cpu_time(run, small))
        best_large = min(best_large, cpu_time(run, large))
        if best_large > _HOPELESS * best_small:
            break  # no amount of noise explains this much: fail without waiting longer
    return n, best_small, best_large


def assert_linear(
    build: Callable[[int], T],
    run: Callable[[T], object],
    n: int,
    *,
    ratio: float = 3.0,
    repeats: int = 5,
    min_seconds: float = MIN_SECONDS,
    max_n: int | None = None,
) -> None:
    """Fail unless ``run(build(2n))`` costs less than ``ratio`` times ``run(build(n))``."""
    used, small, large = growth_ratio(
        build, run, n, repeats=repeats, min_seconds=min_seconds, max_n=max_n
    )
    assert large < ratio * small, (
        f"superlinear: {small:.3f}s at n={used}, {large:.3f}s at n={2 * used} "
        f"(x{large / small:.1f}, limit x{ratio})"
    )
