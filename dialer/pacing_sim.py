"""A seeded discrete-event simulation of a call-centre shift paced by :func:`dialer.pacing.decide`.

The same pacing code the dialer runs decides, once a simulated second (the dialer's scheduling pass), how
many calls to start; calls ring, are answered or not, answered calls go to the operator ready longest or
wait; a call waiting longer than ``abandon_after`` is abandoned. Pure (no I/O, no wall clock): used by
``scripts/sim_pacing.py`` and by the property tests.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass, field

from dialer.pacing import Measurements, PacingPolicy, decide


@dataclass(frozen=True)
class Profile:
    operators: int = 35
    lines: int = 100
    answer_rate: float = 0.4
    talk: tuple[float, float] = (60.0, 180.0)
    wrap: float = 20.0
    ring_to_answer: tuple[float, float] = (5.0, 25.0)
    no_answer_after: float = 30.0
    abandon_after: float = 2.0
    hours: float = 6.0
    window: float = 1800.0       # the sliding window of the abandon rate and the answer rate (s)


@dataclass
class Result:
    dialed: int = 0
    answered: int = 0
    abandoned: int = 0
    connected: int = 0
    busy_seconds: float = 0.0    # talk + wrap-up, all operators
    staffed_seconds: float = 0.0
    predictive_passes: int = 0
    passes: int = 0
    max_in_progress: int = 0
    worst_window: float = 0.0    # highest window abandon rate seen once 100 calls were answered
    waits: list[float] = field(default_factory=list)  # operators' waits between calls

    @property
    def occupancy(self) -> float:
        return self.busy_seconds / self.staffed_seconds if self.staffed_seconds else 0.0

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0

    @property
    def mean_wait(self) -> float:
        return sum(self.waits) / len(self.waits) if self.waits else 0.0


class _Shift:
    def __init__(self, profile: Profile, policy: PacingPolicy, seed: int) -> None:
        self.p, self.policy, self.rng = profile, policy, random.Random(seed)
        self.events: list[tuple[float, int, str, int]] = []
        self.seq = 0
        self.ringing: dict[int, float] = {}          # call -> started
        self.queue: deque[tuple[int, float]] = deque()  # answered calls waiting: (call, answered at)
        self.ready: deque[tuple[int, float]] = deque([(i, 0.0) for i in range(profile.operators)])
        self.on_call: dict[int, float] = {}          # operator -> talk began
        self.wrap_end: dict[int, float] = {}         # operator -> wrap-up ends
        self.window: deque[tuple[float, str]] = deque()  # (when, "dialed" | "answered" | "abandoned")
        self.delays: deque[float] = deque(maxlen=200)
        self.talks: deque[float] = deque(maxlen=200)
        self.answered_day = self.abandoned_day = 0
        self.r = Result()
        self.next_call = 0

    def _at(self, when: float, kind: str, ident: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, kind, ident))

    def _note(self, now: float, what: str) -> None:
        self.window.append((now, what))

    def _measure(self, now: float) -> Measurements:
        while self.window and self.window[0][0] < now - self.p.window:
            self.window.popleft()
        counts = {"dialed": 0, "answered": 0, "abandoned": 0}
        for _when, what in self.window:
            counts[what] += 1
        return Measurements(
            lines_free=self.p.lines - len(self.ringing) - len(self.queue) - len(self.on_call), ready=len(self.ready),
            waiting=len(self.queue), ringing=[now - s for s in self.ringing.values()],
            wrapping=[end - now for end in self.wrap_end.values()],
            talking=[now - s for s in self.on_call.values()], wrap_seconds=self.p.wrap,
            dialed=counts["dialed"], answered=counts["answered"], abandoned=counts["abandoned"],
            answered_day=self.answered_day, abandoned_day=self.abandoned_day,
            answer_delays=list(self.delays), talk_times=list(self.talks))

    def _dial(self, now: float) -> None:
        call = self.next_call
        self.next_call += 1
        self.ringing[call] = now
        self.r.dialed += 1
        if self.rng.random() < self.p.answer_rate:
            self._at(now + self.rng.uniform(*self.p.ring_to_answer), "answer", call)
        else:
            self._at(now + self.p.no_answer_after, "noanswer", call)

    def _connect(self, now: float, call: int) -> None:
        op, since = self.ready.popleft()
        self.r.waits.append(now - since)
        self.on_call[op] = now
        self.r.connected += 1
        talk = self.rng.uniform(*self.p.talk)
        self._at(now + talk, "hangup", op)

    def run(self) -> Result:
        end = self.p.hours * 3600.0
        tick = 0.0
        while tick < end:
            while self.events and self.events[0][0] <= tick:
                when, _s, kind, ident = heapq.heappop(self.events)
                getattr(self, f"_on_{kind}")(when, ident)
            decision = decide(self._measure(tick), self.policy)
            self.r.passes += 1
            self.r.predictive_passes += decision.mode.value == "predictive"
            for _ in range(decision.start):
                self._dial(tick)
            self.r.max_in_progress = max(self.r.max_in_progress, len(self.ringing) + len(self.queue))
            tick += 1.0
        self.r.staffed_seconds = end * self.p.operators
        for op, began in self.on_call.items():  # the shift ends: count what was worked so far
            self.r.busy_seconds += end - began
            del op
        return self.r

    def _on_answer(self, now: float, call: int) -> None:
        started = self.ringing.pop(call)
        self.delays.append(now - started)
        self.r.answered += 1
        self.answered_day += 1
        self._note(now, "dialed")
        self._note(now, "answered")
        if self.ready:
            self._connect(now, call)
        else:
            self.queue.append((call, now))
            self._at(now + self.p.abandon_after, "patience", call)

    def _on_noanswer(self, now: float, call: int) -> None:
        self.ringing.pop(call)
        self._note(now, "dialed")

    def _on_patience(self, now: float, call: int) -> None:
        for i, (waiting, _at) in enumerate(self.queue):
            if waiting == call:
                del self.queue[i]
                self.r.abandoned += 1
                self.abandoned_day += 1
                self._note(now, "abandoned")
                if self.answered_day >= 100:
                    m = self._measure(now)
                    self.r.worst_window = max(self.r.worst_window, m.abandon_rate)
                return

    def _on_hangup(self, now: float, op: int) -> None:
        began = self.on_call.pop(op)
        self.talks.append(now - began)
        self.r.busy_seconds += now - began + self.p.wrap
        self.wrap_end[op] = now + self.p.wrap
        self._at(now + self.p.wrap, "ready", op)

    def _on_ready(self, now: float, op: int) -> None:
        del self.wrap_end[op]
        self.ready.append((op, now))
        if self.queue:
            call, _answered = self.queue.popleft()
            self._connect(now, call)


def simulate(profile: Profile, policy: PacingPolicy, seed: int = 18) -> Result:
    """One shift; the same seed gives the same figures."""
    return _Shift(profile, policy, seed).run()
