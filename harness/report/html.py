"""The HTML of a report: one self-contained page, with plotly.js inlined from the installed
``plotly`` package (the ``report`` extra), so it opens offline and fetches nothing.

Owns the page's layout, the Plotly figures (plain dicts: the Python plotly API is not used) and
the bit of script that draws them. Takes the data :meth:`harness.core.report.TapeReport.result`
makes and returns text; writing the file is the caller's.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PLOTLY_HINT = "harness report needs plotly.js from the plotly package: pip install 'memecoin-harness[report]'"
CHARTED_PATHS = 8
"""REST paths charted one by one; the others are in the table only."""
CHARTED_CONNECTIONS = 80
"""Connections drawn on the lifecycle chart (all listed ones are in the table)."""
COLORS = {"200": "#2e7d32", "304": "#90a4ae", "429": "#c62828", "other": "#ef6c00", "etag": "#6a1b9a"}


class MissingPlotly(RuntimeError):
    """The plotly package, whose plotly.min.js the page inlines, is not installed."""


def plotly_js() -> str:
    """The text of ``plotly.min.js`` shipped in the installed ``plotly`` package."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise MissingPlotly(PLOTLY_HINT)
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MissingPlotly(f"{PLOTLY_HINT} ({path}: {exc.strerror or exc})") from None


def render(reports: Sequence[dict[str, Any]], *, title: str, generated: str, js: str) -> str:
    """The page for ``reports`` (one per tape); ``js`` is plotly.js's text."""
    figures: dict[str, Any] = {}
    body = [
        f"<header><h1>{_e(title)}</h1><p class=note>Made {_e(generated)} by harness report from "
        f"{len(reports)} tape{'s' if len(reports) != 1 else ''}. Self-contained: it opens offline.</p>",
        "<nav>"
        + " ".join(f'<a href="#tape-{i}">{_e(r["tape"])}</a>' for i, r in enumerate(reports))
        + "</nav>",
        "</header>",
    ]
    for index, report in enumerate(reports):
        body.append(_tape(index, report, figures))
    data = _script_json(figures)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{_e(title)}</title>
<style>{CSS}</style></head>
<body>
{"".join(body)}
<script type="application/json" id="figures">{data}</script>
<script>{_script_text(js)}</script>
<script>{DRAW}</script>
</body></html>
"""


def _tape(index: int, r: dict[str, Any], figures: dict[str, Any]) -> str:
    h = r["header"]
    rows = [
        ("created", f"{h['created']} ({h['age']} ago)"),
        ("made by", ", ".join(x for x in (h["source"], h["label"]) if x) or "unknown"),
        ("harness", h["harness"]),
        ("APIs", ", ".join(h["apis"]) or "not recorded"),
        *((f"upstream {k}", v) for k, v in h["upstreams"].items()),
        *((f"extra {k}", v) for k, v in h["extra"].items()),
        ("redaction", ", ".join(h["redaction"]) or "none recorded"),
        ("frames", f"{r['frames']:,} from t={r['span'][0]:g}s to t={r['span'][1]:g}s"),
    ]
    out = [
        f'<section class=tape id="tape-{index}"><h2>{_e(r["tape"])}</h2>',
        _table(("", ""), rows, cls="kv"),
    ]
    out.append(
        "<p class=note>Big tapes are streamed with bounded memory: "
        + "; ".join(_e(x) for x in r["limits"])
        + ".</p>"
    )
    for problem in r["problems"]:
        out.append(f"<p class=warn>{_e(problem)}</p>")
    apis = sorted(set(r["rates"]) | {c["api"] for c in r["connections"]})
    for api in apis:
        out.append(f'<section class=api id="api-{index}-{api}"><h3>{_e(api)}</h3>')
        out.append(_rates(index, api, r, figures))
        conns = [c for c in r["connections"] if c["api"] == api]
        if conns:
            out.append(_connections(index, api, conns, r, figures))
        if api == "pumpfun" and r["rest"]:
            out.append(_rest(index, r, figures))
        candles = [c for c in r["candles"] if c["series"].split(" ", 1)[0] == api]
        for number, series in enumerate(candles):
            out.append(_candles(f"candles-{index}-{api}-{number}", series, figures))
        out.append("</section>")
    out.append(_violations(index, r, figures))
    out.append(_samples(r))
    out.append("</section>")
    return "".join(out)


def _rates(index: int, api: str, r: dict[str, Any], figures: dict[str, Any]) -> str:
    key = f"rates-{index}-{api}"
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": s["family"],
            "x": s["t"],
            "y": s["per_s"],
            "line": {"width": 1.5},
        }
        for s in r["rates"].get(api, [])
    ]
    figures[key] = _figure(traces, f"{api}: messages per second by family", "tape time (s)", "messages / s")
    return _chart(key)


def _connections(
    index: int, api: str, conns: list[dict[str, Any]], r: dict[str, Any], figures: dict[str, Any]
) -> str:
    key = f"conns-{index}-{api}"
    end = r["span"][1]
    shown = conns[:CHARTED_CONNECTIONS]
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [c["conn"] for c in shown],
            "base": [c["opened"] for c in shown],
            "x": [max((c["closed"] if c["closed"] is not None else end) - c["opened"], 0.001) for c in shown],
            "text": [c["close"] for c in shown],
            "hovertemplate": "%{y}: %{base:.3f}s +%{x:.3f}s<br>%{text}<extra></extra>",
            "marker": {"color": ["#c62828" if _bad_close(c["close"]) else "#1565c0" for c in shown]},
            "name": "open",
        }
    ]
    fig = _figure(traces, f"{api}: connections (open to close; red: an abnormal close)", "tape time (s)", "")
    fig["layout"]["height"] = min(120 + 22 * len(shown), 900)
    fig["layout"]["yaxis"]["autorange"] = "reversed"
    figures[key] = fig
    rows = [
        (
            c["conn"],
            c["url"],
            f"{c['opened']:g}",
            "" if c["closed"] is None else f"{c['closed']:g}",
            c["close"],
            str(c["frames"]),
            "<br>".join(_e(s) for s in c["subscriptions"]),
        )
        for c in conns
    ]
    more = (
        f"<p class=note>{r['more_connections']} more connections not listed.</p>"
        if r["more_connections"]
        else ""
    )
    table = _table(
        ("conn", "url", "opened (s)", "closed (s)", "close", "frames", "subscriptions"), rows, raw_last=True
    )
    listed = f"{len(conns)} connection{'s' if len(conns) != 1 else ''}"
    return _chart(key) + f"<details><summary>{listed}</summary>{table}</details>{more}"


def _rest(index: int, r: dict[str, Any], figures: dict[str, Any]) -> str:
    out = ["<h4>REST paths</h4>"]
    rows = [
        (
            p["path"],
            str(p["requests"]),
            ", ".join(f"{k}: {v}" for k, v in p["statuses"].items()),
            str(p["etag_changes"]),
        )
        for p in r["rest"]
    ]
    out.append(_table(("path", "requests", "statuses", "ETag changes"), rows))
    for number, path in enumerate(r["rest"][:CHARTED_PATHS]):
        key = f"rest-{index}-{number}"
        traces = []
        for code, series in path["series"].items():
            if code == "etag":
                traces.append(
                    {
                        "type": "scatter",
                        "mode": "markers",
                        "name": "ETag changed",
                        "x": series["t"],
                        "y": series["n"],
                        "marker": {"symbol": "diamond", "size": 8, "color": COLORS["etag"]},
                    }
                )
            else:
                traces.append(
                    {
                        "type": "bar",
                        "name": code,
                        "x": series["t"],
                        "y": series["n"],
                        "marker": {"color": COLORS[code]},
                    }
                )
        fig = _figure(
            traces, f"{path['path']}: responses per {r['bucket_seconds']:g} s", "tape time (s)", "responses"
        )
        fig["layout"]["barmode"] = "stack"
        figures[key] = fig
        out.append(_chart(key))
    budget = r["budget"]
    if budget["t"]:
        key = f"budget-{index}"
        traces = [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "x-ratelimit-remaining (lowest)",
                "x": budget["t"],
                "y": budget["remaining"],
            }
        ]
        if budget["limit"] is not None:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": "x-ratelimit-limit",
                    "x": [budget["t"][0], budget["t"][-1]],
                    "y": [budget["limit"]] * 2,
                    "line": {"dash": "dot"},
                }
            )
        figures[key] = _figure(traces, "rate-limit budget", "tape time (s)", "requests left")
        out.append(_chart(key))
    return "".join(out)


def _candles(key: str, series: dict[str, Any], figures: dict[str, Any]) -> str:
    rows = series["candles"]
    trace = {
        "type": "candlestick",
        "name": series["series"],
        "x": [row[0] for row in rows],
        "open": [row[1] for row in rows],
        "high": [row[2] for row in rows],
        "low": [row[3] for row in rows],
        "close": [row[4] for row in rows],
    }
    fig = _figure(
        [trace], f"OHLCV 1 s candles, {series['series']} ({series['source']})", "time (UTC)", "price"
    )
    fig["layout"]["xaxis"].update(rangeslider={"visible": False}, type="date")
    figures[key] = fig
    return _chart(key)


def _violations(index: int, r: dict[str, Any], figures: dict[str, Any]) -> str:
    total = r["violation_total"]
    out = [f'<section class=violations id="violations-{index}"><h3>Violations: {total}</h3>']
    if not total:
        out.append("<p>No message of this tape breaks the contract.</p></section>")
        return "".join(out)
    counts = [
        (f'<span id="rule-{index}-{_slug(what)}">{_e(what)}</span>', str(n))
        for what, n in r["violation_counts"].items()
    ]
    out.append(_table(("api family rule", "violations"), counts, raw_first=True))
    key = f"violation-rate-{index}"
    xs = [float(x) for x in r["violation_rate"]]
    figures[key] = _figure(
        [
            {
                "type": "bar",
                "name": "violations",
                "x": xs,
                "y": list(r["violation_rate"].values()),
                "marker": {"color": "#c62828"},
            }
        ],
        f"violations per {r['bucket_seconds']:g} s",
        "tape time (s)",
        "violations",
    )
    out.append(_chart(key))
    rows = []
    for number, v in enumerate(r["violations"]):
        what = f"{v['api']} {v['family'] or '?'} {v['rule']}"
        rows.append(
            f'<tr id="v-{index}-{number}" class=violation>'
            f'<td><a class=line-link href="#line-{index}-{v["line"]}">line {v["line"]}</a></td>'
            f"<td>{v['t']:g}</td><td>{_e(v['conn'])} {_e(v['dir'])}</td>"
            f"<td>{_e(v['api'])} {_e(v['family'] or '?')}</td><td><code>{_e(v['pointer'])}</code></td>"
            f'<td><a class=rule-link href="#rule-{index}-{_slug(what)}">{_e(v["rule"])}</a></td>'
            f"<td>{_e(v['message'])}</td></tr>"
        )
    listed = len(r["violations"])
    note = "" if listed == total else f" (the first {listed} of {total})"
    out.append(
        f"<h4>Each violation{note}</h4><table class=rows><thead><tr><th>tape line</th><th>t (s)</th>"
        "<th>conn</th><th>family</th><th>pointer</th><th>rule</th><th>message</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    lines = [
        f'<tr id="line-{index}-{line}" class=tape-line><td>{_e(line)}</td>'
        f"<td><code>{_e(text)}</code></td></tr>"
        for line, text in r["lines"].items()
    ]
    out.append(
        f"<h4>Tape lines with violations ({_e(r['tape'])})</h4><table class=lines><thead><tr><th>line</th>"
        "<th>frame</th></tr></thead><tbody>" + "".join(lines) + "</tbody></table></section>"
    )
    return "".join(out)


def _samples(r: dict[str, Any]) -> str:
    if not r["samples"]:
        return ""
    items = [
        f"<details><summary>{_e(name)}: {r['families'].get(name, 0):,} messages</summary>"
        + "".join(f"<pre>{_e(text)}</pre>" for text in texts)
        + "</details>"
        for name, texts in sorted(r["samples"].items())
    ]
    return "<section class=samples><h3>Sample messages per family</h3>" + "".join(items) + "</section>"


def _figure(traces: list[dict[str, Any]], title: str, xtitle: str, ytitle: str) -> dict[str, Any]:
    return {
        "data": traces,
        "layout": {
            "title": {"text": title, "font": {"size": 14}},
            "height": 300,
            "margin": {"l": 60, "r": 20, "t": 40, "b": 70},
            "xaxis": {"title": {"text": xtitle}},
            "yaxis": {"title": {"text": ytitle}, "automargin": True},
            "legend": {"orientation": "h", "y": -0.3},
            "font": {"family": "sans-serif"},
        },
    }


def _chart(key: str) -> str:
    return f'<div class=chart id="{key}" data-figure="{key}"></div>'


def _table(
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    cls: str = "",
    raw_last: bool = False,
    raw_first: bool = False,
) -> str:
    def cell(i: int, value: str, row: Sequence[str]) -> str:
        raw = (raw_last and i == len(row) - 1) or (raw_first and i == 0)
        return f"<td>{value if raw else _e(value)}</td>"

    thead = (
        "" if not any(head) else "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead>"
    )
    body = "".join("<tr>" + "".join(cell(i, v, row) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table class='{cls}'>{thead}<tbody>{body}</tbody></table>"


def _bad_close(text: str) -> bool:
    return bool(re.search(r"closed (10(0[2-9]|1\d)|4\d\d\d)|connect_error|HTTP [45]", text))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _script_json(value: Any) -> str:
    return _script_text(json.dumps(value, separators=(",", ":"), allow_nan=False))


def _script_text(text: str) -> str:
    """Text safe inside a <script> element (no ``</script`` or ``<!--`` ends it early)."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline';"
    " img-src data:; font-src data:"
)
"""The page may load nothing from anywhere: what it needs is inline."""

CSS = """
body{font-family:system-ui,sans-serif;margin:0 2rem 3rem;color:#222;max-width:1400px}
h1{font-size:1.5rem}h2{font-size:1.25rem;border-bottom:2px solid #1565c0;padding-bottom:.2rem}
h3{font-size:1.1rem;margin-top:1.6rem}h4{margin:1rem 0 .3rem}
nav a{margin-right:1rem}.note{color:#555;font-size:.9rem}.warn{color:#b71c1c}
table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}.kv td:first-child{font-weight:600;white-space:nowrap}
.chart{width:100%}
tr:target{background:#fff3c4;outline:2px solid #f9a825}
.lines code{white-space:pre-wrap;word-break:break-all;font-size:.78rem}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.4rem;font-size:.78rem}
"""

DRAW = """
(function () {
  var figures = JSON.parse(document.getElementById("figures").textContent);
  var drawn = 0, charts = document.querySelectorAll("[data-figure]");
  charts.forEach(function (el) {
    var fig = figures[el.dataset.figure];
    Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true}).then(function () {
      el.dataset.drawn = "true";
      drawn += 1;
      if (drawn === charts.length) document.body.dataset.charts = "drawn";
    });
  });
  if (charts.length === 0) document.body.dataset.charts = "drawn";
})();
"""
