"""Run a coroutine to its end from synchronous code, also where this thread already runs an event loop (a
notebook's kernel does): then it runs on a thread of its own, with its own loop."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_running() -> bool:
    """Whether this thread runs an event loop now."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run(
    main: Callable[[], Coroutine[Any, Any, T]], loop: asyncio.AbstractEventLoop | None = None
) -> T:
    """main()'s result: on the given loop (else a new one), here, or on a thread of its own where this thread
    already runs a loop."""

    def go() -> T:
        if loop is not None:
            return loop.run_until_complete(main())
        return asyncio.run(main())

    if not loop_running():
        return go()
    with cf.ThreadPoolExecutor(1, thread_name_prefix="gillab-aio") as pool:
        return pool.submit(go).result()
