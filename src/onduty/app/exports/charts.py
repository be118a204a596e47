"""Charts for reviews and reports, drawn with matplotlib's Agg backend (no display, no pyplot state)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from onduty.domain.mttx import Summary
from onduty.domain.review import Evidence, TimelineRow

Format = Literal["png", "svg"]
MARK_COLOURS = {"first signal": "#8e44ad", "detected": "#d35400", "paged": "#c0392b", "acknowledged": "#2471a3",
                "resolved": "#1e8449"}
LANES = (("alert", "alerts"), ("page", "pages"), ("escalation", "escalations"), ("status", "status"),
         ("comms", "messages"), ("note", "notes"))


def _figure(width: float = 8.0, height: float = 3.2) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.hashsalt"] = "onduty"  # stable ids: the same data draws the same SVG
    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(figure: Any, fmt: Format) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def _marks(axes: Any, marks: Mapping[str, datetime | None]) -> None:
    for label, at in marks.items():
        if at is not None:
            axes.axvline(at, color=MARK_COLOURS.get(label, "#555"), linestyle="--", linewidth=1, label=label)


def _time_axis(axes: Any) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.set_xlabel("UTC")


def metric_chart(evidence: Evidence, marks: Mapping[str, datetime | None], fmt: Format = "png") -> bytes:
    """The affected metric around the incident, its baseline, and the moments that matter."""
    figure = _figure()
    axes = figure.add_subplot()
    times = [at for at, _ in evidence.points]
    axes.plot(times, [v for _, v in evidence.points], color="#1f2d3d", linewidth=1.4, label=evidence.metric)
    if evidence.expected:  # the detector's expected value at each point
        axes.plot([at for at, _ in evidence.expected], [v for _, v in evidence.expected], color="#888",
                  linewidth=1, linestyle="--", label="expected")
    elif evidence.baseline is not None:
        axes.axhline(evidence.baseline, color="#888", linewidth=1, linestyle=":", label="baseline")
    if evidence.window_start is not None:
        axes.axvspan(evidence.window_start, evidence.window_end or times[-1], color="#f5b7b1", alpha=0.35,
                     label="abnormal window")
    _marks(axes, marks)
    axes.set_title(f"{evidence.metric} around the incident")
    axes.set_ylabel(evidence.unit or evidence.metric)
    _time_axis(axes)
    axes.legend(fontsize=7, loc="best")
    return _save(figure, fmt)


def events_chart(rows: Sequence[TimelineRow], marks: Mapping[str, datetime | None], fmt: Format = "png") -> bytes:
    """With no metric stored: the incident's own events over time, one lane per kind of event."""
    figure = _figure()
    axes = figure.add_subplot()
    for lane, (prefix, label) in enumerate(LANES):
        times = [r.at for r in rows if r.kind.startswith(prefix)]
        if times:
            axes.scatter(times, [lane] * len(times), s=28, label=label)
    _marks(axes, marks)
    axes.set_yticks(range(len(LANES)), [label for _, label in LANES])
    axes.set_title("The incident's events (no metric is stored for it)")
    _time_axis(axes)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(figure, fmt)


def trend_chart(by_month: Mapping[str, Summary], fmt: Format = "png") -> bytes:
    """Incidents per month (bars) with mean time to acknowledge and resolve (lines, minutes)."""
    figure = _figure(8.0, 3.6)
    axes = figure.add_subplot()
    months = list(by_month)
    axes.bar(months, [s.incidents for s in by_month.values()], color="#aab7c4", label="incidents")
    axes.set_ylabel("incidents")
    minutes = axes.twinx()
    for name, colour in (("mtta", "#2471a3"), ("mttr", "#1e8449"), ("mttd", "#8e44ad")):
        values = [getattr(s, name).mean for s in by_month.values()]
        minutes.plot(months, [v / 60 if v is not None else float("nan") for v in values], marker="o",
                     color=colour, label=f"{name.upper()} mean")
    minutes.set_ylabel("minutes")
    axes.set_title("Incidents and response times per month")
    handles = axes.get_legend_handles_labels()
    more = minutes.get_legend_handles_labels()
    axes.legend(handles[0] + more[0], handles[1] + more[1], fontsize=7, loc="upper left")
    return _save(figure, fmt)
