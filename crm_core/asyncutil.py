"""Resolve a hook result that may be a value or an awaitable."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any


def resolve(value: Any) -> Any:
    if not inspect.isawaitable(value):
        return value
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(value))
    # Called from inside a running loop (a sync hook caller in async code): asyncio.run would
    # refuse, so run the awaitable on a private loop in a helper thread and wait for it. The
    # caller's loop is blocked meanwhile (as by any sync call) but never re-entered.
    box: dict[str, Any] = {}

    def runner() -> None:
        try:
            box["v"] = asyncio.run(_await(value))
        except BaseException as exc:
            box["e"] = exc

    t = threading.Thread(target=runner)
    t.start()
    t.join()
    if "e" in box:
        raise box["e"]
    return box["v"]


async def _await(value: Any) -> Any:
    return await value
