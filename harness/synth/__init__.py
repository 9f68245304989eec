"""Synthetic tapes for all four APIs, made from one seeded simulated market.

``generate(seed, duration)`` returns ``{"pumpfun": (header, frames), "pumpdata": ..., "corto": ...,
"pumpportal": ...}``;
the same seed always gives the same bytes (the header's creation time is fixed too).
``write(out_dir, ...)`` writes them as ``DIR/<api>.jsonl``. The field sets, units and nullability
follow the contract reference; see :mod:`harness.synth.market` for the market model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness import __version__
from harness.core.frames import Frame, Recorded, TapeHeader
from harness.synth import corto, market, pumpdata, pumpfun, pumpportal

APIS = ("pumpfun", "pumpdata", "corto", "pumpportal")
CREATED = "2026-01-01T00:00:00Z"
"""Replay time 0 of every synthetic tape (``market.EPOCH_S``)."""
UPSTREAMS = {
    "pumpfun": ("rest", "https://frontend-api-v3.pump.fun"),
    "pumpdata": ("sio", "https://api.pumpdata.fun"),
    "corto": ("ws", "wss://corto.fun/data-stream"),
    "pumpportal": ("ws", "wss://pumpportal.fun/api/data"),
}


def generate(
    seed: int,
    duration: float,
    apis: tuple[str, ...] = APIS,
    *,
    simulating: Callable[[float], None] | None = None,
) -> dict[str, tuple[TapeHeader, list[Frame]]]:
    """The tapes of ``apis``; ``simulating`` is told the market's time as the simulation runs."""
    if not duration > 0:
        raise ValueError(f"duration must be positive, got {duration}")
    unknown = set(apis) - set(APIS)
    if unknown:
        raise ValueError(f"unknown api {sorted(unknown)[0]!r} (known: {', '.join(APIS)})")
    sim = market.simulate(seed, duration, progress=simulating)
    projectors = {"pumpfun": pumpfun.project, "pumpdata": pumpdata.project, "corto": corto.project}
    projectors["pumpportal"] = pumpportal.project
    out = {}
    for api in apis:
        header = tape_header(api, "synth", (("duration", duration), ("seed", seed)))
        out[api] = (header, projectors[api](sim))
    return out


def tape_header(api: str, source: str, extra: tuple[tuple[str, object], ...] = ()) -> TapeHeader:
    """The header of a synthetic tape of ``api``, made by ``source`` (its creation time fixed)."""
    return TapeHeader(
        created=CREATED,
        harness_version=__version__.split("+")[0],
        recorded=Recorded(
            apis=(api,),
            upstreams=(UPSTREAMS[api],),
            label=f"{source}-{api}",
            source=source,
            extra=extra,
        ),
        redaction=("synthetic: secrets are placeholders",),
    )


Progress = Callable[[str, int, int], None]
"""Told ``(api, frames written, frames in all)`` while a tape is written."""


def write(
    out_dir: Path,
    seed: int,
    duration: float,
    apis: tuple[str, ...] = APIS,
    *,
    gzip: bool = False,
    progress: Progress | None = None,
    simulating: Callable[[float], None] | None = None,
) -> list[tuple[Path, int]]:
    """Write the tapes; returns (path, frames) for each. Existing files are replaced.
    ``simulating`` is told the market's time while it is simulated, ``progress`` the frames
    written of each tape."""
    from harness.store import TapeWriter

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for api, (header, frames) in generate(seed, duration, apis, simulating=simulating).items():
        path = out_dir / f"{api}.jsonl{'.gz' if gzip else ''}"
        path.unlink(missing_ok=True)
        with TapeWriter(path, header) as writer:
            for done, frame in enumerate(frames):
                writer.write(frame)
                if progress is not None and done % 1000 == 0:
                    progress(api, done, len(frames))
        written.append((path, len(frames)))
    return written
