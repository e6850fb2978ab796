"""What a replay did to each object over time: state intervals, armed deadlines, violations.

`hamodel replay --plot` fills a Timeline from the replay engine's calls and
hands it to plot.py.  Memory grows with the intervals recorded, so recording
stops at MAX_SEGMENTS (the plot then says it is cut short); replay itself
stays bounded as before when no plot is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_SEGMENTS = 200_000


@dataclass(slots=True)
class Segment:
    state: str
    start: int  # ns
    end: int | None = None  # None while the object is in the state
    deadline: int | None = None  # when the armed invariant ends (absolute ns)


@dataclass(frozen=True, slots=True)
class Mark:
    time: int
    state: str
    kind: str  # invalid_event | guard | invariant


@dataclass(slots=True)
class Track:
    obj: object
    segments: list[Segment] = field(default_factory=list)
    violations: list[Mark] = field(default_factory=list)

    @property
    def open(self) -> Segment | None:
        s = self.segments[-1] if self.segments else None
        return s if s is not None and s.end is None else None


class Timeline:
    def __init__(self, model: str, states: tuple[str, ...]) -> None:
        self.model = model
        self.states = states
        self.tracks: dict[object, Track] = {}
        self.segments = 0
        self.truncated = False
        self.first: int | None = None
        self.last: int | None = None

    def _seen(self, t: int) -> None:
        if self.first is None:
            self.first = t
        self.last = t if self.last is None else max(self.last, t)

    def enter(self, obj: object, t: int, state: str, deadline: int | None) -> None:
        """obj is in `state` from t on (a start, or a move)."""
        self._seen(t)
        track = self.tracks.setdefault(obj, Track(obj))
        current = track.open
        if current is not None:
            if current.state == state and current.deadline == deadline:
                return  # a self-loop that keeps the timer: the same bar goes on
            current.end = t
        if self.segments >= MAX_SEGMENTS:
            self.truncated = True
            return
        self.segments += 1
        track.segments.append(Segment(state, t, None, deadline))

    def leave(self, obj: object, t: int) -> None:
        """obj is not monitored from t on (stopped, exited, lost in a gap, violated)."""
        self._seen(t)
        track = self.tracks.get(obj)
        if track is not None and track.open is not None:
            track.open.end = t

    def violation(self, obj: object, t: int, state: str, kind: str) -> None:
        self._seen(t)
        track = self.tracks.setdefault(obj, Track(obj))
        track.violations.append(Mark(t, state, kind))
        self.leave(obj, t)

    def finish(self, t: int | None) -> None:
        end = t if t is not None else self.last
        for track in self.tracks.values():
            if track.open is not None and end is not None:
                track.open.end = max(end, track.open.start)
        if end is not None:
            self._seen(end)

    def chosen(self, rows: int) -> list[Track]:
        """The objects to draw: the violated ones first (by first violation), then the
        others as first seen; at most `rows`."""
        tracks = list(self.tracks.values())
        violated = sorted((t for t in tracks if t.violations), key=lambda t: t.violations[0].time)
        rest = [t for t in tracks if not t.violations]
        return (violated + rest)[:rows]
