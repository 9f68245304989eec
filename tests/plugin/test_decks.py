"""The session's servers: one per distinct tape and config, kept for later tests, old replays closed."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from harness.plugin import decks
from harness.plugin.decks import DeckCache, ReplayTime
from harness.plugin.settings import HarnessConfig, Resolved, resolve
from tests.helpers import threaded_upstream
from tests.server import pumpfun_tape


def _resolved(tmp_path: Path, **marker: object) -> Resolved:
    return resolve(HarnessConfig(tape="p.jsonl"), marker, {}, test_dir=tmp_path, invocation_dir=tmp_path)


def test_servers_are_shared_by_settings_and_idle_ones_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pumpfun_tape.write(tmp_path / "p.jsonl")
    monkeypatch.setattr(decks, "MAX_IDLE_REPLAYS", 1)
    cache = DeckCache()
    try:
        first = cache.get(_resolved(tmp_path, seed=1))
        assert cache.get(_resolved(tmp_path, seed=1, allow_violations=True)) is first
        url = first.deck.urls["rest"] + "/sol-price"
        assert requests.get(url, timeout=5).status_code == 200
        second = cache.get(_resolved(tmp_path, seed=2))
        assert second is not first
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=5)  # the least recently used replay was closed
    finally:
        cache.close(clean=True)
    assert cache.outcomes == []  # replays write nothing


async def test_replay_time_is_a_float_that_can_be_awaited() -> None:
    assert await ReplayTime(2.5) == 2.5 == ReplayTime(2.5)
    assert isinstance(await ReplayTime(1.0), float)


def test_one_recording_per_tape_whatever_the_replay_settings(tmp_path: Path) -> None:
    with threaded_upstream() as upstream:
        config = HarnessConfig(
            tape="new.jsonl",
            record_mode="once",
            rest_upstream=upstream.urls["rest"],
            ws_upstream=upstream.urls["websocket"],
        )
        cache = DeckCache()
        try:
            first = cache.get(resolve(config, {"speed": 2}, {}, test_dir=tmp_path, invocation_dir=tmp_path))
            second = cache.get(resolve(config, {"seed": 5}, {}, test_dir=tmp_path, invocation_dir=tmp_path))
            assert second is first
            assert requests.get(first.deck.urls["rest"] + "/sol-price", timeout=5).status_code == 200
        finally:
            cache.close(clean=True)
    assert cache.outcomes == [f"recorded {tmp_path / 'new.jsonl'} (1 frames)"]
