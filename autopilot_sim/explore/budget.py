"""The fault budget of an exploration: ``--budget 'crash<=2, partition<=1, down_for<=90s, loss<=0.2'``.

A budget is a comma-separated list of terms ``KEY<=VALUE`` or ``KEY>=VALUE``:

===============  ======  =====================================================================
key              ops     meaning
===============  ======  =====================================================================
crash            <=      at most N crash + restart pairs per plan
pause            <=      at most N pauses (a stalled process) per plan
partition        <=      at most N partitions, each healed after a while
cut              <=      at most N one-way link cuts (all, Raft-only or gossip-only traffic)
loss_windows     <=      at most N windows of random packet loss (default 1 when ``loss`` is given)
faults           <=      at most N faults per plan in total (default: the sum of the above)
down_for         <= >=   how long each fault lasts: down time, partition or cut length, pause,
                         loss window (default 1s to 60s)
loss             <= >=   the loss probability of a loss window (default from 0.01; ``<=`` is
                         required to allow loss windows at all, unless ``loss_windows`` is given:
                         then at most 0.2)
start            >=      no fault before this time (default 10s: after the bootstrap election)
end              <=      every fault is over by this time (default: the scenario's duration)
===============  ======  =====================================================================

Counts are per plan: each plan draws how many faults of each kind it has, from 0 to the maximum
(at least one fault in all). `parse_budget` raises `BudgetError` naming the term, its column and
what would be valid.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from autopilot_sim.durations import SECOND, format_duration, parse_duration

#: Fault kinds a plan can hold, in the order plans list them.
FAULT_KINDS = ("crash", "pause", "partition", "cut", "loss")
#: Budget count keys → fault kind.
COUNT_KEYS = {"crash": "crash", "pause": "pause", "partition": "partition", "cut": "cut", "loss_windows": "loss"}
_OPS = {
    **dict.fromkeys(COUNT_KEYS, ("<=",)),
    "faults": ("<=",),
    "down_for": ("<=", ">="),
    "loss": ("<=", ">="),
    "start": (">=",),
    "end": ("<=",),
}
DEFAULT_DOWN_MIN = 1 * SECOND
DEFAULT_DOWN_MAX = 60 * SECOND
DEFAULT_START = 10 * SECOND
DEFAULT_LOSS_MIN = 0.01
DEFAULT_LOSS_MAX = 0.2
_TERM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|=<|=>|<|>|==|=)?\s*(.*?)\s*$")


class BudgetError(ValueError):
    """A budget that cannot be parsed or used; the message names the term and what is valid."""


@dataclass(frozen=True)
class Budget:
    """A parsed budget (times in ns). `counts` maps each fault kind to its per-plan maximum."""

    counts: dict[str, int] = field(default_factory=dict)
    faults: int | None = None
    down_min: int = DEFAULT_DOWN_MIN
    down_max: int = DEFAULT_DOWN_MAX
    loss_min: float = DEFAULT_LOSS_MIN
    loss_max: float = DEFAULT_LOSS_MAX
    start: int = DEFAULT_START
    end: int | None = None
    text: str = ""

    @property
    def max_faults(self) -> int:
        """The most faults one plan may hold."""
        total = sum(self.counts.values())
        return total if self.faults is None else min(total, self.faults)

    def canonical(self) -> str:
        """The budget with every default written out, in a fixed order (recorded in explore.json)."""
        parts = [f"{key}<={self.counts.get(kind, 0)}" for key, kind in COUNT_KEYS.items()]
        parts.append(f"faults<={self.max_faults}")
        parts += [f"down_for>={format_duration(self.down_min)}", f"down_for<={format_duration(self.down_max)}"]
        if self.counts.get("loss"):
            parts += [f"loss>={self.loss_min:g}", f"loss<={self.loss_max:g}"]
        parts.append(f"start>={format_duration(self.start)}")
        if self.end is not None:
            parts.append(f"end<={format_duration(self.end)}")
        return ", ".join(parts)

    def for_duration(self, duration: int) -> Budget:
        """The budget within a scenario of this duration (`end` defaults to it); raises
        `BudgetError` when no fault fits."""
        end = duration if self.end is None else self.end
        if end > duration:
            raise BudgetError(f"--budget: end<={format_duration(end)} is after the scenario's end "
                              f"({format_duration(duration)}); use end<={format_duration(duration)} or less")
        if self.start + self.down_min > end:
            raise BudgetError(f"--budget: no fault fits: start>={format_duration(self.start)} plus the shortest "
                              f"fault (down_for>={format_duration(self.down_min)}) ends after "
                              f"{format_duration(end)} (the scenario lasts {format_duration(duration)})")
        return Budget(dict(self.counts), self.faults, self.down_min, self.down_max, self.loss_min,
                      self.loss_max, self.start, end, self.text)


def _fail(index: int, column: int, term: str, message: str) -> BudgetError:
    return BudgetError(f"--budget: term {index} {term.strip()!r} (column {column}): {message}")


def _count(value: str) -> int | None:
    return int(value) if re.fullmatch(r"\d+", value) else None


def parse_budget(text: str) -> Budget:
    """Parse a budget (see the module docstring); raises `BudgetError` on the first bad term."""
    if not text.strip():
        raise BudgetError("--budget is empty: give at least one fault count, e.g. 'crash<=2, down_for<=90s'")
    counts: dict[str, int] = {}
    values: dict[tuple[str, str], str] = {}
    seen: dict[tuple[str, str], int] = {}
    faults: int | None = None
    down_min, down_max = DEFAULT_DOWN_MIN, DEFAULT_DOWN_MAX
    loss_min, loss_max = DEFAULT_LOSS_MIN, None
    start, end = DEFAULT_START, None
    column = 1
    for index, term in enumerate(text.split(","), start=1):
        col = column + len(term) - len(term.lstrip())
        column += len(term) + 1
        if not term.strip():
            raise _fail(index, col, term, "empty term (two commas in a row, or a trailing comma)")
        match = _TERM.match(term)
        if match is None:
            raise _fail(index, col, term, "expected KEY<=VALUE or KEY>=VALUE, e.g. crash<=2 or down_for<=90s")
        key, op, value = match.group(1), match.group(2), match.group(3)
        if key not in _OPS:
            close = difflib.get_close_matches(key, list(_OPS), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise _fail(index, col, term, f'unknown key "{key}"{hint}; valid keys: ' + ", ".join(_OPS))
        allowed = _OPS[key]
        if op not in allowed:
            shown = " or ".join(f"{key}{o}VALUE" for o in allowed)
            got = f'"{op}"' if op else "no operator"
            raise _fail(index, col, term, f"{got}: write {shown}")
        if not value:
            raise _fail(index, col, term, f"{key}{op} needs a value")
        if (key, op) in seen:
            raise _fail(index, col, term, f"{key}{op} is given twice (also term {seen[(key, op)]})")
        seen[(key, op)] = index
        values[(key, op)] = value
        if key in COUNT_KEYS or key == "faults":
            n = _count(value)
            if n is None:
                raise _fail(index, col, term, f"{key} needs a whole number of faults (0 or more), got {value!r}")
            if key == "faults":
                faults = n
            else:
                counts[COUNT_KEYS[key]] = n
        elif key in ("down_for", "start", "end"):
            try:
                ns = parse_duration(value)
            except ValueError:
                raise _fail(index, col, term, f"{key} needs a Go duration such as 90s or 1m30s, "
                                              f"got {value!r}") from None
            if ns < 0 or (key == "down_for" and ns <= 0):
                raise _fail(index, col, term, f"{key} must be positive, got {value}")
            if key == "down_for" and op == "<=":
                down_max = ns
            elif key == "down_for":
                down_min = ns
            elif key == "start":
                start = ns
            else:
                end = ns
        else:  # loss
            try:
                p = float(value)
            except ValueError:
                p = -1.0
            if not 0 < p < 1:
                raise _fail(index, col, term, f"loss needs a probability between 0 and 1 (exclusive), got {value!r}")
            if op == "<=":
                loss_max = p
            else:
                loss_min = p
    if loss_max is not None and "loss" not in counts:
        counts["loss"] = 1
    if down_min > down_max:
        raise BudgetError(f"--budget: down_for>={values[('down_for', '>=')]} is longer than "
                          f"down_for<={values[('down_for', '<=')]}" if ("down_for", "<=") in values else
                          f"--budget: down_for>={values[('down_for', '>=')]} is longer than the default "
                          f"down_for<={format_duration(DEFAULT_DOWN_MAX)}; give down_for<= too")
    loss_top = DEFAULT_LOSS_MAX if loss_max is None else loss_max
    if loss_min > loss_top:
        raise BudgetError(f"--budget: loss>={loss_min:g} is above loss<={loss_top:g}")
    if end is not None and start >= end:
        raise BudgetError(f"--budget: start>={format_duration(start)} is not before end<={format_duration(end)}")
    budget = Budget({k: counts.get(k, 0) for k in FAULT_KINDS}, faults, down_min, down_max, loss_min, loss_top,
                    start, end, text.strip())
    if budget.max_faults == 0:
        raise BudgetError("--budget allows no fault: give at least one count above 0, e.g. crash<=1, "
                          "partition<=1, pause<=1, cut<=1 or loss<=0.1")
    return budget
