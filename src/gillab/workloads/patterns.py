"""The sharing workload's Python code: five ways threads share state, each beside its fix.

Every function runs a loop of n steps and returns n. Each broken pattern and its fix do the same work per
step; only what the threads share differs:

- shared_dict / own_dict: every thread writes into one module-level dict / each task into a dict of its own;
- lock_per_update / partial_sums: one Lock taken for every update of a shared total / a local sum added to
  the total under the Lock once;
- shared_list / own_list: every thread appends to (and pops from) one module-level list / a list of its own;
- shared_object / own_object: every thread calls a method that updates one shared object / a copy of its own;
- cyclic_garbage / acyclic: each step leaves a list that refers to itself (only the cycle collector can free
  it) / a list that reference counting frees at once.

With a GIL, threads take turns whatever they share. Without it (a free-threaded build), the broken patterns
fight over one object's lock and cache lines, and cyclic garbage makes the collector stop every thread.
"""

from __future__ import annotations

import threading

# A dict step writes key i & 255 (a small int, immortal): the dicts stay small, so a step costs the same all
# run long. The mask is a literal, and every shared object is read into a local before the loop: on a
# free-threaded build a module global read in the loop is itself shared (its reference count), and would make
# the fixes contend too. On 3.14t even a method call on a shared object contends: it counts a reference to it.

SHARED_DICT: dict[int, int] = {}
SHARED_LIST: list[int] = []
LOCK = threading.Lock()
TOTAL = [0]


class Tally:
    """An object whose method updates it."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, i: int) -> None:
        """Count one step."""
        self.count += i & 1


SHARED_OBJECT = Tally()


def shared_dict(n: int) -> int:
    """Write n keys into the dict every thread shares.

    >>> shared_dict(3)
    3
    """
    d = SHARED_DICT
    for i in range(n):
        d[i & 255] = i
    return n


def own_dict(n: int) -> int:
    """Write n keys into a dict of this task's own."""
    d: dict[int, int] = {}
    for i in range(n):
        d[i & 255] = i
    return n


def lock_per_update(n: int) -> int:
    """Add 1 to the shared total n times, taking the Lock for every update."""
    total, lock = TOTAL, LOCK
    for _ in range(n):
        with lock:
            total[0] += 1
    return n


def partial_sums(n: int) -> int:
    """Count n steps in a local sum, then add it to the shared total under the Lock once."""
    s = 0
    for _ in range(n):
        s += 1
    with LOCK:
        TOTAL[0] += s
    return n


def shared_list(n: int) -> int:
    """Append to and pop from the list every thread shares, n times (each pop follows this task's own append,
    so the list is never empty when popped)."""
    lst = SHARED_LIST
    for i in range(n):
        lst.append(i)
        lst.pop()
    return n


def own_list(n: int) -> int:
    """Append to and pop from a list of this task's own, n times."""
    lst: list[int] = []
    for i in range(n):
        lst.append(i)
        lst.pop()
    return n


def shared_object(n: int) -> int:
    """Call the method that updates the object every thread shares, n times."""
    o = SHARED_OBJECT
    for i in range(n):
        o.add(i)
    return n


def own_object(n: int) -> int:
    """Call the same method on an object of this task's own, n times."""
    o = Tally()
    for i in range(n):
        o.add(i)
    return n


def cyclic_garbage(n: int) -> int:
    """Make n lists that each refer to themselves: garbage only the cycle collector can free."""
    for _ in range(n):
        a: list[object] = []
        a.append(a)
    return n


def acyclic(n: int) -> int:
    """Make n short lists that reference counting frees at once."""
    for i in range(n):
        a = [i, i]
        a.append(i)
    return n
