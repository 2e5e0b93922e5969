"""A realistic, deterministic case history, produced by driving the real state machine.

Every seeded case goes through ``apply_action`` exactly as a live one would, so a history is
legal by construction and the audit trail is complete. Timing follows the command room's day:
reports peak mid-morning and mid-afternoon, departments work office hours at their own pace
(some are slow, so some cases run late), and steps that would fall after ``now`` are not taken —
the cases still open at the end are today's open cases.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely  # type: ignore[import-untyped]

from dashboard.domain.calendar import WorkingCalendar
from dashboard.domain.categories import CategoryTree, Department, SubCategory
from dashboard.domain.deadlines import deadline_for, resume_deadline
from dashboard.domain.lifecycle import ActionRequest, CaseState, Transition, apply_action, new_case
from dashboard.domain.regions import Grid, Region, Village
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, Source
from dashboard.seed.people import WorkerSeed
from dashboard.seed.rhythm import (
    HOUR_WEIGHTS,
    REPORTS_PER_DAY,
    SELF_HANDLE_SHARE,
    SOURCE_WEIGHTS,
    VOID_SHARE,
    caller,
    category_cum_weights,
    describe,
    handling_time,
    hour_arrivals,
    office_time_add,
)
from dashboard.storage.case_rows import state_columns

# The shared rhythm (dashboard.seed.rhythm) is re-exported for existing importers.
__all__ = [
    "HOUR_WEIGHTS",
    "REPORTS_PER_DAY",
    "SOURCE_WEIGHTS",
    "HistoryContext",
    "HistoryGenerator",
    "SeededCase",
    "generate_history",
]


@dataclass
class SeededCase:
    """One case ready for a bulk insert: the row values and the audit trail."""

    row: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryContext:
    region: Region
    workers: Sequence[WorkerSeed]
    categories: CategoryTree
    departments: Sequence[Department]
    calendar: WorkingCalendar


class _Points:
    """Random points inside grids, drawn in vectorised batches (rejection in the bounding box)."""

    def __init__(self, grids: Sequence[Grid], rng: np.random.Generator) -> None:
        self._grids = grids
        self._rng = rng
        self._cache: dict[str, list[tuple[float, float]]] = {}

    def inside(self, grid: Grid) -> tuple[float, float]:
        stock = self._cache.get(grid.code)
        if not stock:
            minx, miny, maxx, maxy = shapely.bounds(grid.polygon).tolist()
            xs = self._rng.uniform(minx, maxx, 64)
            ys = self._rng.uniform(miny, maxy, 64)
            keep = shapely.contains_xy(grid.polygon, xs, ys)
            stock = list(zip(xs[keep].tolist(), ys[keep].tolist(), strict=True)) or [grid.centroid]
            self._cache[grid.code] = stock
        return stock.pop()


class HistoryGenerator:
    def __init__(self, ctx: HistoryContext, seed: int, scale: str) -> None:
        self.ctx = ctx
        self.rng = random.Random(f"history:{seed}")
        self.per_day = REPORTS_PER_DAY[scale]
        self.grids = sorted(ctx.region.grids, key=lambda g: g.code)
        self.grid_cum = list(itertools.accumulate(g.households for g in self.grids))
        self.points = _Points(self.grids, np.random.default_rng(seed))
        self.workers_by_grid: dict[str, list[WorkerSeed]] = {}
        for w in ctx.workers:
            self.workers_by_grid.setdefault(w.grid_code, []).append(w)
        subs = ctx.categories.subs
        # A Zipf-like category mix: the first 小类 of each 大类 are the everyday ones.
        self.subs = subs
        self.sub_cum = category_cum_weights(subs)
        self.dept_codes = [d.code for d in ctx.departments]
        # Each department has its own pace: a factor on the share of the time limit it uses.
        self.pace = {code: self.rng.uniform(0.5, 2.2) for code in self.dept_codes}
        self.village_names = {v.code: v.short_name for v in ctx.region.villages}

    # --- arrivals -------------------------------------------------------------------------

    def arrivals(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Report times in [start, end) following the daily rhythm (a non-homogeneous Poisson)."""
        tz = self.ctx.calendar.tz
        hour = start.astimezone(tz).replace(minute=0, second=0, microsecond=0)
        while hour < end:
            for at in hour_arrivals(self.rng, self.per_day, hour):
                if start <= at < end:
                    yield at
            hour += timedelta(hours=1)

    # --- one case -------------------------------------------------------------------------

    def case(self, case_id: int, reported_at: datetime, now: datetime) -> SeededCase:
        rng = self.rng
        source = rng.choices(list(SOURCE_WEIGHTS), weights=list(SOURCE_WEIGHTS.values()))[0]
        grid = rng.choices(self.grids, cum_weights=self.grid_cum)[0]
        lon, lat = self.points.inside(grid)
        sub = rng.choices(self.subs, cum_weights=self.sub_cum)[0]
        worker = rng.choice(self.workers_by_grid.get(grid.code) or list(self.ctx.workers))
        reporter = worker.id if source is Source.GRID_WORKER else caller(rng, source)
        village = self.ctx.region.village(grid.village_code)
        desc = describe(rng, self.village_names[village.code], sub)
        state = new_case(source, reported_at, emergency=source is Source.EMERGENCY)
        occurred = reported_at - timedelta(minutes=rng.randint(0, 30))
        seeded = SeededCase(
            row=_report_row(case_id, sub.code, desc, (lon, lat), grid, village, reporter, occurred)
        )
        actor = worker.id if source is Source.GRID_WORKER else reporter
        seeded.events.append(
            _event(
                case_id,
                "report",
                None,
                state.status.value,
                reported_at,
                actor,
                Role.GRID_WORKER if source is Source.GRID_WORKER else Role.INTEGRATION,
                details={"category": sub.code, "source": source.value},
            )
        )
        state = _Walk(self, seeded, state, sub, worker, now).run()
        seeded.row.update(_state_columns(state))
        return seeded


def _report_row(
    case_id: int,
    category: str,
    description: str,
    point: tuple[float, float],
    grid: Grid,
    village: Village,
    reporter: str,
    occurred_at: datetime,
) -> dict[str, Any]:
    """The columns a report sets, for a seeded case (the walk adds the state's)."""
    return {
        "id": case_id,
        "reported_category": category,
        "description": description,
        "lon": round(point[0], 6),
        "lat": round(point[1], 6),
        "address": "",
        "grid_code": grid.code,
        "village_code": village.code,
        "town_code": village.town_code,
        "county_code": village.town_code[:6],
        "reporter": reporter,
        "idempotency_key": None,
        "occurred_at": occurred_at,
    }


class _Walk:
    """Takes one case through its life, step by step, until the story or the clock runs out."""

    def __init__(
        self,
        gen: HistoryGenerator,
        seeded: SeededCase,
        state: CaseState,
        sub: SubCategory,
        worker: WorkerSeed,
        now: datetime,
    ) -> None:
        self.gen, self.seeded, self.state, self.sub, self.worker, self.now = (
            gen,
            seeded,
            state,
            sub,
            worker,
            now,
        )
        self.rng = gen.rng
        self.at = state.reported_at or now
        self.cal = gen.ctx.calendar

    def step(self, delay: timedelta, action: Action, actor: str, role: Role, **kw: Any) -> bool:
        at = self.at + delay
        if at > self.now:
            return False
        req = ActionRequest(action=action, actor=actor, role=role, **kw)
        t: Transition = apply_action(self.state, req, at)
        self.state, self.at = t.state, at
        self.seeded.events.append(
            _event(
                self.seeded.row["id"],
                action.value,
                t.before.value,
                t.after.value,
                at,
                actor,
                role,
                note=t.note,
                reason=t.reason,
                details=dict(t.details),
                attachments={"ids": list(t.attachments)} if t.attachments else {},
            )
        )
        return True

    def minutes(self, lo: float, hi: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(lo, hi))

    def run(self) -> CaseState:
        rng, src = self.rng, self.state.source
        photo = (f"seed-photo-{self.seeded.row['id']}",)
        if src is Source.GRID_WORKER and rng.random() < SELF_HANDLE_SHARE:
            if self.step(
                self.minutes(5, 60),
                Action.SELF_HANDLE,
                self.worker.id,
                Role.GRID_WORKER,
                attachments=photo,
                note="现场已处置",
            ):
                self.step(self.minutes(10, 120), Action.CLOSE, "值班长", Role.COMMANDER)
            return self.state
        urgent = self.state.emergency  # skips the queues: everything within minutes
        accept = self.minutes(0.5, 2) if urgent else self.minutes(1, 15)
        if not self.step(accept, Action.ACCEPT, "受理员", Role.DISPATCHER):
            return self.state
        if src in (Source.PUBLIC, Source.HOTLINE) and rng.random() < VOID_SHARE:
            self.step(
                self.minutes(10, 90),
                Action.VOID,
                "值班长",
                Role.COMMANDER,
                reason=rng.choice(("重复上报", "无效信息", "不属于受理范围")),
            )
            return self.state
        if src is Source.PUBLIC:
            ok = self.step(
                self.minutes(5, 30), Action.REQUEST_VERIFY, "受理员", Role.DISPATCHER
            ) and self.step(self.minutes(20, 180), Action.VERIFY, self.worker.id, Role.GRID_WORKER)
            if not ok:
                return self.state
        reg_delay = self.minutes(1, 10) if self.state.emergency else self.minutes(5, 30)
        deadline = deadline_for(self.at + reg_delay, self.sub.limit, self.cal)
        if not self.step(
            reg_delay,
            Action.REGISTER,
            "值班长",
            Role.COMMANDER,
            category_code=self.sub.code,
            deadline=deadline,
            department_code=self.sub.default_department,
        ):
            return self.state
        return self._department_stage(photo)

    def _department_stage(self, photo: tuple[str, ...]) -> CaseState:
        if self.state.emergency:
            return self._emergency_stage(photo)
        rng = self.rng
        dept = self.sub.default_department
        if not self.step(
            self.minutes(2, 20), Action.DISPATCH, "派遣员", Role.DISPATCHER, department_code=dept
        ):
            return self.state
        if rng.random() < 0.05:  # wrong department: returned, then sent elsewhere
            if not self.step(
                self.minutes(30, 300),
                Action.RETURN,
                dept,
                Role.DEPARTMENT,
                reason="不属于本部门职责",
            ):
                return self.state
            dept = rng.choice([d for d in self.gen.dept_codes if d != dept])
            if not self.step(
                self.minutes(10, 60),
                Action.DISPATCH,
                "派遣员",
                Role.DISPATCHER,
                department_code=dept,
            ):
                return self.state
        if not self.step(self._office(5, 60), Action.START, dept, Role.DEPARTMENT):
            return self.state
        if rng.random() < 0.04 and not self._suspend(dept):
            return self.state
        if rng.random() < 0.06 and self.state.deadline is not None:
            days = timedelta(days=rng.choice((2, 3, 5)))
            delay = self.minutes(60, 600)
            # After the current deadline and after the step itself (an extension to a moment
            # already past is refused: issue 10 §4).
            new = max(self.state.deadline, self.at + delay) + days
            if not self.step(
                delay,
                Action.EXTEND,
                "值班长",
                Role.COMMANDER,
                deadline=new,
                reason="情况复杂，申请延期",
            ):
                return self.state
        for attempt in range(3):
            if not self.step(
                self._handling_time(dept, attempt),
                Action.HANDLED,
                dept,
                Role.DEPARTMENT,
                attachments=photo,
                note="已处置完毕",
            ):
                return self.state
            if attempt < 2 and rng.random() < 0.08:
                if not self.step(
                    self.minutes(20, 240),
                    Action.CHECK_FAIL,
                    self.worker.id,
                    Role.GRID_WORKER,
                    reason="现场核查未整改到位",
                ):
                    return self.state
                continue
            if not self.step(
                self.minutes(15, 120), Action.CHECK_PASS, self.worker.id, Role.GRID_WORKER
            ):
                return self.state
            break
        if (
            self.step(self.minutes(5, 45), Action.CLOSE, "值班长", Role.COMMANDER)
            and rng.random() < 0.5
        ):
            self.step(
                self.minutes(60, 2880),
                Action.EVALUATE,
                "评价",
                Role.INTEGRATION,
                satisfaction=rng.choices((5, 4, 3, 2, 1), weights=(60, 25, 9, 4, 2))[0],
            )
        return self.state

    def _emergency_stage(self, photo: tuple[str, ...]) -> CaseState:
        """A one-click emergency: dispatched, on site and handled within the hour."""
        dept = self.sub.default_department
        steps: tuple[tuple[timedelta, Action, str, Role, dict[str, Any]], ...] = (
            (
                self.minutes(1, 5),
                Action.DISPATCH,
                "派遣员",
                Role.DISPATCHER,
                {"department_code": dept},
            ),
            (self.minutes(1, 10), Action.START, dept, Role.DEPARTMENT, {}),
            (
                self.minutes(20, 90),
                Action.HANDLED,
                dept,
                Role.DEPARTMENT,
                {"attachments": photo, "note": "已处置完毕"},
            ),
            (self.minutes(10, 60), Action.CHECK_PASS, self.worker.id, Role.GRID_WORKER, {}),
            (self.minutes(5, 30), Action.CLOSE, "值班长", Role.COMMANDER, {}),
        )
        for delay, action, actor, role, kw in steps:
            if not self.step(delay, action, actor, role, **kw):
                break
        return self.state

    def _office(self, lo: float, hi: float) -> timedelta:
        """Department time: office hours at full pace, after hours at the duty officer's."""
        return office_time_add(self.cal, self.at, self.minutes(lo, hi)) - self.at

    def _suspend(self, dept: str) -> bool:
        suspended_at = self.at + self.minutes(60, 600)
        if not self.step(
            suspended_at - self.at, Action.SUSPEND, dept, Role.DEPARTMENT, reason="等待当事人返乡"
        ):
            return False
        pause = timedelta(hours=self.rng.uniform(12, 96))
        assert self.state.deadline is not None
        moved = resume_deadline(self.state.deadline, suspended_at, suspended_at + pause, self.cal)
        return self.step(pause, Action.RESUME, "值班长", Role.COMMANDER, deadline=moved)

    def _handling_time(self, dept: str, attempt: int) -> timedelta:
        """Working time a department takes (see ``rhythm.handling_time``), at its own pace."""
        assert self.state.deadline is not None
        pace = self.gen.pace.get(dept, 1.0)
        return handling_time(self.rng, self.cal, self.at, self.state.deadline, pace, attempt)


def _state_columns(state: CaseState) -> dict[str, Any]:
    return {**state_columns(state), "version": 1}


def _event(
    case_id: int,
    action: str,
    before: str | None,
    after: str,
    at: datetime,
    actor: str,
    role: Role,
    *,
    note: str = "",
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    attachments: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "action": action,
        "from_status": before,
        "to_status": after,
        "at": at,
        "actor": actor,
        "role": role.value,
        "note": note,
        "reason": reason,
        "details": details or {},
        "attachments": attachments or {},
    }


# The cases the demo's opening relies on (docs/demo.md), planted at fixed distances before the
# seed's ``now`` so they are there whatever the hour of the first start:
# - a group dispute (群体性矛盾苗头, reported with the one-click emergency) a few hours ago, the
#   police mediating on site: its village has been red for longer than the call-list delay, so
#   the supervisors' call list is not empty at the first start;
# - a street stall that the urban management has let run past its 4-hour limit, and a rubbish
#   heap in its yellow phase: the watchers' first run raises a supervision order and a reminder
#   (dashboard.seed.aftermath leaves the newest of each to them).
DISPUTE_HOURS = (2.5, 4.0)  # reported this many hours before ``now``


@dataclass(frozen=True)
class _Plant:
    category: str
    text: str
    emergency: bool
    note: str  # what the department says when it starts


_DISPUTE = _Plant(
    "01005",
    "一键报警：{place}村民因土地流转补偿聚集，情绪激动，请求立即处置！",
    True,
    "民警已到场调解",
)
_LATE = _Plant(
    "10002", "{place}主干道旁流动摊贩占道经营，多次劝离后又返回。", False, "已安排执法队员处置"
)
_YELLOW = _Plant("10001", "{place}河道边暴露垃圾堆积，气味明显。", False, "已安排保洁员清运")


def _before(calendar: WorkingCalendar, now: datetime, working: timedelta) -> datetime:
    """The latest moment from which ``working`` time of the calendar runs until ``now``."""
    t = now
    while calendar.working_time_between(t, now) < working:
        t -= timedelta(minutes=10)
    return t


def _plants(ctx: HistoryContext, seed: int, now: datetime) -> list[tuple[datetime, _Plant]]:
    """(when it was registered, what) of each plant whose category the tree has."""
    cal = ctx.calendar
    dispute = now - timedelta(hours=random.Random(f"dispute:{seed}").uniform(*DISPUTE_HOURS))
    plants = [
        (dispute, _DISPUTE),
        (_before(cal, now, timedelta(hours=4, minutes=30)), _LATE),  # 30 min past the limit
        (_before(cal, now, timedelta(hours=3, minutes=30)), _YELLOW),  # 87 % of the limit
    ]
    return sorted((at, p) for at, p in plants if p.category in ctx.categories)


def _planted(
    gen: HistoryGenerator, plant: _Plant, case_id: int, registered: datetime, now: datetime
) -> SeededCase:
    """A planted case: reported, registered at ``registered``, dispatched, being handled."""
    rng = gen.rng
    village = rng.choice(sorted(gen.ctx.region.villages, key=lambda v: v.code))
    grid = min(gen.ctx.region.grids_of(village.code), key=lambda g: g.code)
    worker = gen.workers_by_grid[grid.code][0]
    sub = gen.ctx.categories.get(plant.category)
    source = Source.EMERGENCY if plant.emergency else Source.GRID_WORKER
    reported_at = registered - timedelta(minutes=3)
    lon, lat = gen.points.inside(grid)
    state = new_case(source, reported_at, emergency=plant.emergency)
    text = plant.text.format(place=village.short_name)
    occurred_at = reported_at - timedelta(minutes=5)
    seeded = SeededCase(
        row=_report_row(case_id, sub.code, text, (lon, lat), grid, village, worker.id, occurred_at)
    )
    details = {"category": sub.code, "source": source.value}
    seeded.events.append(
        _event(case_id, "report", None, state.status.value, reported_at, worker.id,
               Role.GRID_WORKER, details=details)
    )  # fmt: skip
    walk = _Walk(gen, seeded, state, sub, worker, now)
    deadline = deadline_for(registered, sub.limit, gen.ctx.calendar)
    dept = sub.default_department
    walk.step(timedelta(minutes=1), Action.ACCEPT, "受理员", Role.DISPATCHER)
    walk.step(
        timedelta(minutes=2),
        Action.REGISTER,
        "值班长",
        Role.COMMANDER,
        category_code=sub.code,
        deadline=deadline,
        department_code=dept,
    )
    walk.step(
        timedelta(minutes=2), Action.DISPATCH, "派遣员", Role.DISPATCHER, department_code=dept
    )
    walk.step(timedelta(minutes=12), Action.START, dept, Role.DEPARTMENT, note=plant.note)
    seeded.row.update(_state_columns(walk.state))
    return seeded


def generate_history(
    ctx: HistoryContext,
    *,
    scale: str,
    seed: int,
    days: int,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> Iterator[SeededCase]:
    """Cases reported during the ``days`` before ``now``, in report order, ids from 1.

    With a history of a day or more, the planted cases (``_plants``) are among them."""
    gen = HistoryGenerator(ctx, seed, scale)
    start = now - timedelta(days=days)
    plants = _plants(ctx, seed, now) if days >= 1 else []
    ids = itertools.count(1)
    for reported_at in gen.arrivals(start, now):
        while plants and plants[0][0] - timedelta(minutes=3) <= reported_at:
            registered, plant = plants.pop(0)
            yield _planted(gen, plant, next(ids), registered, now)
        yield gen.case(next(ids), reported_at, now)
        if progress is not None:
            progress(1)
    for registered, plant in plants:  # a quiet night: no report since
        yield _planted(gen, plant, next(ids), registered, now)
