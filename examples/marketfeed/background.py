"""Running a client in the background for the length of an ``async with`` block."""

from __future__ import annotations

import abc
import asyncio
import contextlib
from typing import Self


class Background(abc.ABC):
    """``async with client:`` runs ``client.run()`` as a task and cancels it at the end of the
    block; an error that ended ``run()`` early is raised there."""

    _runner: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def run(self) -> None:
        """The client's life, until cancelled."""

    async def __aenter__(self) -> Self:
        self._runner = asyncio.get_running_loop().create_task(self.run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
