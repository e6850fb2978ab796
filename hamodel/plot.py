"""Timeline -> an SVG or PNG picture (matplotlib): one row per object, time across.

Each row shows the object's states as bars in its own colour (the residency),
a tick where the armed invariant would end (the deadline), and a red cross at
each violation.  Output bytes are the same on every run: the SVG ids are
salted with a fixed string and no date or tool version is written.
"""

from __future__ import annotations

import io

from hamodel.timeline import Timeline

FORMATS = ("svg", "png")
ROWS = 40
# Colour-blind-safe (Okabe-Ito); states take them in the model's kernel order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")


class PlotError(ValueError):
    """matplotlib is missing, or the format is unknown: one line, exit 2."""


def plot_format(path: str) -> str:
    fmt = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if fmt not in FORMATS:
        raise PlotError(f"--plot {path!r}: the file name must end in .svg or .png")
    return fmt


def _armed(segments) -> list[tuple[int, int]]:
    """(when armed, deadline) for each run of consecutive intervals with one deadline."""
    out: list[tuple[int, int]] = []
    last = None
    for s in segments:
        if s.deadline is not None and s.deadline != last:
            out.append((s.start, s.deadline))
        last = s.deadline
    return out


def render(timeline: Timeline, fmt: str, title: str) -> bytes:
    try:
        import matplotlib
    except ImportError:
        raise PlotError("--plot needs matplotlib (pip install matplotlib)") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415 (after the backend is chosen)

    tracks = timeline.chosen(ROWS)
    origin = timeline.first or 0
    span_ms = max(((timeline.last or origin) - origin) / 1e6, 1e-6)
    colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(timeline.states)}
    with matplotlib.rc_context({"svg.hashsalt": "hamodel", "svg.fonttype": "none",
                                "font.size": 8}):
        height = 1.2 + 0.32 * max(len(tracks), 1)
        fig, ax = plt.subplots(figsize=(10, height), dpi=100)
        try:
            for row, track in enumerate(tracks):
                for s in track.segments:
                    end = s.end if s.end is not None else (timeline.last or s.start)
                    x0 = (s.start - origin) / 1e6
                    width = max((end - s.start) / 1e6, span_ms / 2000)
                    ax.broken_barh([(x0, width)], (row - 0.3, 0.6), facecolors=colour[s.state],
                                   linewidth=0)
                for start, deadline in _armed(track.segments):
                    # from arming to where the invariant would end, above the bars
                    x0, x1 = (start - origin) / 1e6, (deadline - origin) / 1e6
                    ax.plot([x0, x1], [row - 0.4, row - 0.4], color="black", linewidth=0.8)
                    ax.plot([x1], [row - 0.4], marker="|", markersize=7, color="black",
                            linestyle="none")
                for v in track.violations:
                    ax.plot([(v.time - origin) / 1e6], [row], marker="x", markersize=7,
                            markeredgewidth=2, color="red", linestyle="none")
            ax.set_yticks(range(len(tracks)), [str(t.obj) for t in tracks])
            ax.set_ylim(len(tracks) - 0.5, -0.5)
            ax.set_xlim(0, span_ms * 1.02)
            ax.set_xlabel("time since the first event (ms)")
            ax.set_ylabel("object")
            shown = len(tracks)
            more = f", {shown} of {len(timeline.tracks)} objects" if shown < len(
                timeline.tracks) else ""
            cut = ", recording cut short" if timeline.truncated else ""
            ax.set_title(f"{title}{more}{cut}")
            handles = [plt.Rectangle((0, 0), 1, 1, color=colour[s]) for s in timeline.states]
            handles += [plt.Line2D([], [], marker="|", color="black", linestyle="none"),
                        plt.Line2D([], [], marker="x", color="red", linestyle="none")]
            labels = list(timeline.states) + ["deadline of the armed invariant", "violation"]
            ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1),
                      frameon=False)
            fig.tight_layout()
            out = io.BytesIO()
            metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
            fig.savefig(out, format=fmt, metadata=metadata)
        finally:
            plt.close(fig)
    return out.getvalue()
