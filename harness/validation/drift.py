"""Profiles of recordings for contract drift (``harness diff``, and the recorder when a recording
replaces a tape): messages classified and checked as ``harness validate`` does, profiled by
:class:`harness.core.drift.Profile`.

Owns reading a tape into a profile: streamed, with numbers written in exponent notation told
apart (the text of a WebSocket message or a REST body is decoded again for that; Socket.IO
payloads are stored decoded in a tape, so their notation is not known).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.core.drift import Change, Profile, compare, decode
from harness.core.families import FamilyTracker
from harness.core.frames import HttpExchange, WsText
from harness.validation.validator import default_validator

__all__ = ["add_message", "tape_drift", "tape_profile"]


def add_message(
    profile: Profile,
    api: str,
    family: str | None,
    message: Any,
    plain: Any,
    want: tuple[str | None, str | None] = (None, None),
) -> None:
    """Profile one classified message (skipped unless of ``want``'s api and family, when given),
    with the ways the current schemas reject it. ``message`` as :func:`harness.core.drift.decode`
    decodes it, ``plain`` the same as the validators take it (the compiled engine wants plain
    floats)."""
    if (want[0] and api != want[0]) or (want[1] and family != want[1]):
        return
    found = default_validator().classified(plain, api, family) if family is not None else []
    profile.add(api, family, message, (f"{v.pointer or '/'} {v.rule}" for v in found))


def tape_profile(
    path: Path,
    profile: Profile | None = None,
    *,
    want: tuple[str | None, str | None] = (None, None),
    progress: Callable[[int], None] | None = None,
) -> Profile:
    """The profile of a tape's messages, both directions (``progress(bytes_read)`` now and then)."""
    from harness.store import TapeReader

    profile = profile or Profile()
    tracker = FamilyTracker()
    with TapeReader(path) as reader:
        for count, (_, frame) in enumerate(reader.records()):
            if progress is not None and count % 2000 == 0:
                progress(reader.position)
            for api, family, plain, prefix in tracker.classify(frame):
                message = plain
                raw = (
                    frame.data
                    if isinstance(frame, WsText) and not prefix
                    else frame.response.body.decode("utf-8", "replace")
                    if isinstance(frame, HttpExchange) and prefix == "/response/body"
                    else None
                )
                if raw is not None:
                    with contextlib.suppress(ValueError, RecursionError):  # else the classifier's NotJson
                        message = decode(raw)
                add_message(profile, api, family, message, plain, want)
    return profile


def tape_drift(old: Path, new: Path) -> list[Change]:
    """The changes from tape ``old`` to tape ``new``."""
    return compare(tape_profile(old), tape_profile(new))
