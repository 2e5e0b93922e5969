"""What happens to a case after it is reported: the desk, the departments, the grid worker.

Each reported case gets a ``Track``: its story is decided at once from its own random generator
(self-handled on the spot? void? sent to the wrong department? fails the on-site check?), and
the next step is planned after each one succeeds. Who acts and when follows the command room:

- desk operators (受理员/派遣员) accept, register and dispatch within minutes, day and night;
  the shift lead (值班长) voids, approves extensions and suspensions, and closes;
- departments work office hours on the working calendar, each at its own pace (some are slow,
  so some cases run late), and report back with a photo; after hours their duty officers go on,
  at a quarter of the pace (``rhythm.office_time_add``);
- the grid worker verifies public reports and checks results on site during their shift,
  passing most and failing some (rework), or fixes small things on the spot (self-handled);
- emergencies skip the queue: everything happens within minutes;
- a burst's duplicate reports are voided by the desk within minutes (重复上报).

At the start the simulator adopts the cases already open in the system (the seeded history, or
what a previous run left), so they are handled and closed too (``adopt``): each one's next step
is planned from the start as if its last step had just been taken, and the longest-waiting ones
go first — a department reports one handled ``OPENING_HANDLED`` after the start, the desk
closes one after ``OPENING_CLOSED`` (docs/demo.md).

The steps are only proposed here; the runner sends them through the client, so every one goes
through the real state machine, and a step it refuses ends that case's story.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.categories import SubCategory
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, CaseStatus, Source
from dashboard.reference import ReferenceData
from dashboard.seed.rhythm import SELF_HANDLE_SHARE, VOID_SHARE, handling_time, office_time_add
from dashboard.simulator.arrivals import Kind, PlannedReport
from dashboard.simulator.client import Act, CaseRef, OpenCase
from dashboard.simulator.patrol import Shift
from dashboard.simulator.world import World

DESK = ("受理员", Role.DISPATCHER)
DISPATCHER = ("派遣员", Role.DISPATCHER)
SHIFT_LEAD = ("值班长", Role.COMMANDER)
CALLBACK = ("12345回访", Role.INTEGRATION)  # the reporter's satisfaction, asked by the hotline
VOID_REASONS = ("重复上报", "无效信息", "不属于受理范围")
DUPLICATE = "重复上报"
OPENING_HANDLED = timedelta(minutes=3)
OPENING_CLOSED = timedelta(minutes=5)


@dataclass
class Track:
    """One reported case as the simulator follows it."""

    case_id: int
    seq: int  # the simulator's own number for the case: seeds its story
    kind: Kind
    source: Source
    sub: SubCategory
    worker: str  # the grid worker on the spot
    rng: random.Random
    status: CaseStatus
    deadline: datetime | None = None
    department: str | None = None
    # The story, decided at the report.
    self_handle: bool = False
    void: bool = False
    duplicate: bool = False
    wrong_department: bool = False
    check_fails: int = 0
    extend: bool = False
    suspend: bool = False
    evaluate: bool = False
    # What happened so far.
    attempt: int = 0
    returned_by: str | None = None
    extended: bool = False
    suspended: bool = False
    # The next step.
    due: datetime | None = None
    act: Act | None = field(default=None, repr=False)


class Handling:
    def __init__(
        self, reference: ReferenceData, shift: Shift, *, seed: int, speed: float = 1.0
    ) -> None:
        self.calendar: WorkingCalendar = reference.calendar
        self.shift = shift
        self.speed = speed
        self.seed = seed
        self.departments = sorted(d.code for d in reference.departments)
        self.categories = reference.categories
        paces = random.Random(f"paces:{seed}")
        # Each department has its own pace, as in the seeded history: a factor on its time.
        self.pace = {code: paces.uniform(0.5, 2.2) for code in self.departments}
        self.tracks: dict[int, Track] = {}
        self._queue: list[tuple[datetime, int, int]] = []
        self._order = itertools.count()

    # --- the queue ------------------------------------------------------------------------

    def admit(self, planned: PlannedReport, ref: CaseRef, seq: int) -> Track:
        rng = random.Random(f"case:{self.seed}:{seq}")
        routine = planned.kind is Kind.ROUTINE
        source = planned.report.source
        by_worker = routine and source is Source.GRID_WORKER
        by_phone = routine and source in (Source.PUBLIC, Source.HOTLINE)
        fails = int(rng.random() < 0.08) + int(rng.random() < 0.01)  # drawn for every story
        track = Track(
            case_id=ref.id,
            seq=seq,
            kind=planned.kind,
            source=source,
            sub=planned.sub,
            worker=planned.worker.id,
            rng=rng,
            status=ref.status,
            deadline=ref.deadline,
            self_handle=by_worker and rng.random() < SELF_HANDLE_SHARE,
            void=planned.duplicate or (by_phone and rng.random() < VOID_SHARE),
            duplicate=planned.duplicate,
            wrong_department=routine and rng.random() < 0.05,
            # An emergency is checked by the worker who called it in, on the spot: no rework.
            check_fails=0 if planned.kind is Kind.EMERGENCY else fails,
            extend=routine and rng.random() < 0.05,
            suspend=routine and rng.random() < 0.03,
            evaluate=rng.random() < 0.5,
        )
        self.tracks[ref.id] = track
        self._plan(track, planned.at)
        return track

    def adopt(self, cases: list[OpenCase], world: World, start: datetime) -> int:
        """Follow the cases already open at ``start``; how many were adopted."""
        adopted = []
        for case in sorted(cases, key=lambda c: c.id):
            if case.id in self.tracks or case.category not in self.categories:
                continue
            staff = world.staff_of(case.grid) if case.grid else ()
            if not staff and case.village:
                grids = world.grids_of(case.village)
                staff = world.staff_of(grids[0].code) if grids else ()
            if not staff:
                continue
            rng = random.Random(f"adopted:{self.seed}:{case.id}")
            track = Track(
                case_id=case.id,
                seq=-case.id,
                kind=Kind.EMERGENCY if case.emergency else Kind.ROUTINE,
                source=case.source,
                sub=self.categories.get(case.category),
                worker=staff[0].id,
                rng=rng,
                status=case.status,
                deadline=case.deadline,
                department=case.department,
                check_fails=int(rng.random() < 0.08),
                evaluate=rng.random() < 0.5,
            )
            self.tracks[case.id] = track
            step = self._next(track, start)
            if step is None:
                self.tracks.pop(case.id)
                continue
            track.act = step[1]
            adopted.append((track, step[0]))
        self._opening(adopted, start)
        for track, when in adopted:
            self._enqueue(track, when)
        return len(adopted)

    def _opening(self, adopted: list[tuple[Track, datetime]], start: datetime) -> None:
        """The longest-waiting ones first: the handled report and the closure of the opening."""
        for statuses, action, after in (
            ((CaseStatus.HANDLING, CaseStatus.REWORK), Action.HANDLED, OPENING_HANDLED),
            ((CaseStatus.CHECKED, CaseStatus.SELF_HANDLED), Action.CLOSE, OPENING_CLOSED),
        ):
            waiting = [
                i
                for i, (t, _) in enumerate(adopted)
                if t.status in statuses and t.act is not None and t.act.action is action
            ]
            if waiting:
                first = min(waiting, key=lambda i: adopted[i][0].case_id)
                adopted[first] = (adopted[first][0], min(adopted[first][1], start + after))

    def next_due(self, now: datetime) -> Track | None:
        """The track whose next step is due soonest, if one is due at ``now``."""
        while self._queue and self._queue[0][0] <= now:
            due, _, case_id = heapq.heappop(self._queue)
            track = self.tracks.get(case_id)
            if track is not None and track.due == due:
                return track
        return None

    def done(self, track: Track, ref: CaseRef) -> None:
        """The step succeeded: remember what it changed and plan the next one."""
        assert track.due is not None and track.act is not None
        act, at = track.act, track.due
        track.status, track.deadline = ref.status, ref.deadline or track.deadline
        if act.action is Action.DISPATCH:
            track.department = act.department
        elif act.action is Action.RETURN:
            track.returned_by, track.department = track.department, None
        elif act.action is Action.EXTEND:
            track.extended = True
        elif act.action is Action.SUSPEND:
            track.suspended = True
        elif act.action is Action.CHECK_FAIL:
            track.check_fails -= 1
            track.attempt += 1
        self._plan(track, at)

    def drop(self, track: Track) -> None:
        """The system refused the step (someone else moved the case): stop following it."""
        self.tracks.pop(track.case_id, None)

    def retry(self, track: Track, at: datetime) -> None:
        """The system could not be reached: try the same step again at ``at``."""
        self._enqueue(track, at)

    def _enqueue(self, track: Track, at: datetime) -> None:
        track.due = at
        heapq.heappush(self._queue, (at, next(self._order), track.case_id))

    def _plan(self, track: Track, at: datetime) -> None:
        step = self._next(track, at)
        if step is None:
            self.tracks.pop(track.case_id, None)  # the story is over
            return
        when, track.act = step
        self._enqueue(track, when)

    # --- the story ------------------------------------------------------------------------

    def _next(self, t: Track, at: datetime) -> tuple[datetime, Act] | None:
        """The next step of the story from the case's status, and when it happens."""
        s = t.status
        if s is CaseStatus.REPORTED:
            if t.self_handle:
                return self._field(t, at, 5, 30), self._self_handle(t)
            if t.duplicate:
                return self._desk(t, at, 0.5, 2), Act(Action.ACCEPT, *DESK)
            return self._desk(t, at, 0.5, 5), Act(Action.ACCEPT, *DESK)
        if s is CaseStatus.ACCEPTED:
            if t.duplicate:
                act = Act(Action.VOID, *SHIFT_LEAD, reason=DUPLICATE)
                return self._desk(t, at, 1, 3), act
            if t.void:
                reason = t.rng.choice(VOID_REASONS)
                return self._desk(t, at, 2, 15), Act(Action.VOID, *SHIFT_LEAD, reason=reason)
            if t.source is Source.PUBLIC:
                return self._desk(t, at, 1, 5), Act(Action.REQUEST_VERIFY, *DESK)
            return self._desk(t, at, 1, 10), self._register(t)
        if s is CaseStatus.VERIFYING:
            return self._field(t, at, 10, 60), Act(Action.VERIFY, t.worker, Role.GRID_WORKER)
        if s is CaseStatus.VERIFIED:
            return self._desk(t, at, 1, 10), self._register(t)
        if s is CaseStatus.REGISTERED:
            department = t.department or t.sub.default_department
            act = Act(Action.DISPATCH, *DISPATCHER, department=department)
            return self._desk(t, at, 1, 10), act
        if s is CaseStatus.RETURNED:
            others = [d for d in self.departments if d != t.returned_by]
            act = Act(Action.DISPATCH, *DISPATCHER, department=t.rng.choice(others))
            return self._desk(t, at, 2, 10), act
        if s is CaseStatus.DISPATCHED:
            return self._dispatched(t, at)
        if s is CaseStatus.HANDLING:
            return self._handling(t, at)
        if s is CaseStatus.REWORK:
            return self._handled(t, at)
        if s is CaseStatus.SUSPENDED:
            return self._desk(t, at, 60, 240), Act(Action.RESUME, *SHIFT_LEAD)
        if s is CaseStatus.HANDLED:
            return self._check(t, at)
        if s in (CaseStatus.CHECKED, CaseStatus.SELF_HANDLED):
            return self._desk(t, at, 5, 30), Act(Action.CLOSE, *SHIFT_LEAD)
        if s is CaseStatus.CLOSED and t.evaluate:
            satisfaction = t.rng.choices((5, 4, 3, 2, 1), weights=(60, 25, 9, 4, 2))[0]
            act = Act(Action.EVALUATE, *CALLBACK, satisfaction=satisfaction)
            return self._desk(t, at, 10, 120), act
        return None  # evaluated, voided, or closed without a rating: the story is over

    def _register(self, t: Track) -> Act:
        return Act(Action.REGISTER, *DESK, category=t.sub.code)

    def _self_handle(self, t: Track) -> Act:
        return Act(
            Action.SELF_HANDLE,
            t.worker,
            Role.GRID_WORKER,
            note="现场已处置",
            category=t.sub.code,
            photos=1,
        )

    def _dispatched(self, t: Track, at: datetime) -> tuple[datetime, Act]:
        department = t.department or t.sub.default_department
        if t.wrong_department and t.returned_by is None:
            act = Act(Action.RETURN, department, Role.DEPARTMENT, reason="不属于本部门职责")
            return self._office(t, at, 10, 90), act
        return self._office(t, at, 5, 60), Act(Action.START, department, Role.DEPARTMENT)

    def _handling(self, t: Track, at: datetime) -> tuple[datetime, Act]:
        if t.suspend and not t.suspended:
            act = Act(Action.SUSPEND, *SHIFT_LEAD, reason="等待当事人返乡")
            return self._desk(t, at, 30, 240), act
        if t.extend and not t.extended and t.deadline is not None:
            # After the deadline and after now: an overdue case's extension starts from now.
            later = max(t.deadline, at) + timedelta(days=t.rng.choice((2, 3, 5)))
            act = Act(Action.EXTEND, *SHIFT_LEAD, deadline=later, reason="情况复杂，申请延期")
            return self._desk(t, at, 30, 240), act
        return self._handled(t, at)

    def _handled(self, t: Track, at: datetime) -> tuple[datetime, Act]:
        department = t.department or t.sub.default_department
        act = Act(Action.HANDLED, department, Role.DEPARTMENT, note="已处置完毕", photos=1)
        if t.kind is Kind.EMERGENCY:
            return at + self._scaled(t.rng.uniform(20, 60)), act
        deadline = t.deadline or self.calendar.add_working_time(at, timedelta(hours=8))
        pace = self.pace.get(department, 1.0)
        took = handling_time(t.rng, self.calendar, at, deadline, pace, t.attempt) / self.speed
        return at + took, act

    def _check(self, t: Track, at: datetime) -> tuple[datetime, Act]:
        if t.check_fails > 0:
            act = Act(Action.CHECK_FAIL, t.worker, Role.GRID_WORKER, reason="现场核查未整改到位")
        else:
            act = Act(Action.CHECK_PASS, t.worker, Role.GRID_WORKER, note="现场核查通过")
        return self._field(t, at, 10, 90), act

    # --- when -----------------------------------------------------------------------------

    def _scaled(self, minutes: float) -> timedelta:
        return timedelta(minutes=minutes / self.speed)

    def _desk(self, t: Track, at: datetime, lo: float, hi: float) -> datetime:
        """The command room works around the clock; emergencies within a minute or so."""
        if t.kind is Kind.EMERGENCY:
            lo, hi = min(lo, 0.2), min(hi, 1.5)
        return at + self._scaled(t.rng.uniform(lo, hi))

    def _office(self, t: Track, at: datetime, lo: float, hi: float) -> datetime:
        """Departments work office hours, their duty officers more slowly after hours
        (emergencies: at once, whatever the hour)."""
        if t.kind is Kind.EMERGENCY:
            return at + self._scaled(t.rng.uniform(1, 5))
        work = self._scaled(t.rng.uniform(lo, hi))
        return office_time_add(self.calendar, at, work)

    def _field(self, t: Track, at: datetime, lo: float, hi: float) -> datetime:
        """Grid workers go out during their shift (emergencies: they are already there)."""
        when = at + self._scaled(t.rng.uniform(lo, hi))
        if t.kind is Kind.EMERGENCY or self.shift.on_duty(when):
            return when
        return self.shift.next_start(when) + self._scaled(t.rng.uniform(5, 40))
