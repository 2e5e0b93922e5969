"""A stand-in for the command center made of the real rules, for the simulator's unit tests.

``DomainClient`` implements the simulator's client interface with the pure core and nothing
else: the case state machine (``apply_action``), deadlines on the working calendar, the role
matrix (``can_act``), the region's point lookup (``RegionIndex``) and the village rule
(``recompute_all``). What storage adds (transactions, the outbox, concurrent writers) is covered
by ``tests/integration/test_simulator.py`` against the real ``CaseService`` and the real API.
The tests at the bottom check that the stand-in refuses what the system refuses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.clock import FixedClock
from dashboard.config import AppConfig
from dashboard.domain.errors import DomainError
from dashboard.domain.lifecycle import (
    ActionRequest,
    CaseState,
    IllegalTransition,
    Transition,
    apply_action,
    new_case,
)
from dashboard.domain.permissions import can_act
from dashboard.domain.regions import Location, RegionIndex
from dashboard.domain.roles import Role
from dashboard.domain.status import Action, CaseStatus, Source
from dashboard.domain.village_status import (
    INITIAL,
    VillageCounts,
    VillageLight,
    VillageState,
    recompute_all,
)
from dashboard.reference import ReferenceData, load_reference
from dashboard.services.cases import InvalidReport, complete_request
from dashboard.services.villages import rule_from_config
from dashboard.simulator.client import (
    Act,
    CaseRef,
    Fix,
    OpenCase,
    Refused,
    Report,
    SimClient,
    Unavailable,
    VillageInfo,
)
from dashboard.simulator.world import World, world_from_seed

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_8AM = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)  # a working day


@functools.cache
def town() -> World:
    """The town demo region and its workforce (seed 7), generated once per test session."""
    return world_from_seed("town", 7)


@functools.cache
def reference() -> ReferenceData:
    return load_reference(AppConfig())


@dataclass
class Logged:
    at: datetime
    case_id: int
    action: Action
    actor: str
    role: Role
    before: CaseStatus
    after: CaseStatus


@dataclass
class _Case:
    state: CaseState
    where: Location
    reported_category: str


class DomainClient(SimClient):
    def __init__(self, world: World, ref: ReferenceData, clock: FixedClock) -> None:
        self.ref, self.clock = ref, clock
        self.index = RegionIndex(world.grids, world.villages)
        self.workers = {w.id for w in world.workers}
        self.village_codes = [v.code for v in world.villages]
        self.rule = rule_from_config(AppConfig().rules.village)
        self.cases: dict[int, _Case] = {}
        self.keys: dict[str, int] = {}
        self.log: list[Logged] = []
        self.reports: list[tuple[datetime, Report, Location]] = []
        self.fixes: list[Fix] = []
        self.refusals: list[DomainError] = []
        self.lights: dict[str, VillageState] = {}
        self.ever_red: set[str] = set()
        self.unavailable = 0  # the next this many calls fail as if the server were down
        self.calls = 0

    def _call(self) -> datetime:
        self.calls += 1
        if self.unavailable > 0:
            self.unavailable -= 1
            raise Unavailable("unreachable", "the test says the server is down")
        return self.clock.now()

    def report(self, report: Report) -> CaseRef:
        now = self._call()
        if report.idempotency_key in self.keys:
            return self._ref(self.keys[report.idempotency_key])
        try:
            self.ref.categories.get(report.category)
        except DomainError as err:
            raise Refused(err.code, err.message) from err
        where = self.index.locate(report.lon, report.lat)
        if where is None or not report.description.strip():
            raise Refused("invalid_report", "outside the region, or no description")
        emergency = report.emergency or report.source is Source.EMERGENCY
        case_id = len(self.cases) + 1
        state = new_case(report.source, now, emergency=emergency)
        self.cases[case_id] = _Case(state, where, report.category)
        if report.idempotency_key:
            self.keys[report.idempotency_key] = case_id
        self.reports.append((now, report, where))
        return self._ref(case_id)

    def act(self, case_id: int, act: Act) -> CaseRef:
        now = self._call()
        case = self.cases.get(case_id)
        if case is None:
            raise Refused("case_not_found", f"there is no case {case_id}")
        if not can_act(act.role, act.action):
            err = DomainError("forbidden", f"the role {act.role} may not {act.action}")
            self.refusals.append(err)
            raise Refused(err.code, err.message)
        request = self._complete(case, act, now)
        try:
            transition = apply_action(case.state, request, now)
        except IllegalTransition as err:
            self.refusals.append(err)
            raise Refused(err.code, err.message) from err
        case.state = transition.state
        self.log.append(Logged(now, case_id, act.action, act.actor, act.role, *_moved(transition)))
        return self._ref(case_id)

    def _complete(self, case: _Case, act: Act, now: datetime) -> ActionRequest:
        """What CaseService derives (the same function): register deadline and department,
        the resume deadline; an unknown department is refused."""
        photos = tuple(f"photo-{len(self.log)}-{n}" for n in range(act.photos))
        request = act.request(photos)
        try:
            return complete_request(case.state, case.reported_category, request, now, self.ref)
        except InvalidReport as err:
            raise Refused(err.code, act.department or err.message) from err

    def send_fixes(self, fixes: list[Fix]) -> int:  # type: ignore[override]
        self._call()
        unknown = {f.worker for f in fixes} - self.workers
        if unknown:
            raise Refused("unknown_workers", ", ".join(sorted(unknown)))
        self.fixes.extend(fixes)
        return len(fixes)

    def open_cases(self) -> list[OpenCase]:
        self._call()
        return [
            OpenCase(
                case_id,
                case.state.status,
                case.state.source,
                case.state.emergency,
                case.state.category_code or case.reported_category,
                case.where.village_code,
                case.where.grid_code,
                case.state.department_code,
                case.state.deadline,
            )
            for case_id, case in sorted(self.cases.items())
            if case.state.is_open
        ]

    def villages(self) -> list[VillageInfo]:
        now = self._call()
        counts: dict[str, VillageCounts] = {}
        for case in self.cases.values():
            s, code = case.state, case.where.village_code
            c = counts.get(code, VillageCounts(0, 0, 0, 0))
            in_window = (
                s.status is not CaseStatus.VOIDED
                and s.reported_at is not None
                and s.reported_at >= self.rule.window_start(now)
            )
            counts[code] = VillageCounts(
                c.window_total + in_window,
                c.window_open + (in_window and s.is_open),
                c.open_emergencies + (s.is_open and s.emergency),
                c.open_overdue + s.is_overdue(now),
            )
        previous = {code: self.lights.get(code, INITIAL) for code in self.village_codes}
        self.lights = dict(recompute_all(previous, counts, now, self.rule))
        self.ever_red |= {c for c, s in self.lights.items() if s.status is VillageLight.RED}
        return [
            VillageInfo(code, state.status.value, state.open_ratio)
            for code, state in sorted(self.lights.items())
        ]

    def _ref(self, case_id: int) -> CaseRef:
        case = self.cases[case_id]
        return CaseRef(
            case_id,
            case.state.status,
            case.where.village_code,
            case.where.grid_code,
            case.state.deadline,
        )

    def status(self, case_id: int) -> CaseStatus:
        return self.cases[case_id].state.status


def _moved(transition: Transition) -> tuple[CaseStatus, CaseStatus]:
    return transition.before, transition.after


# --- the stand-in refuses what the system refuses ----------------------------------------------


@pytest.fixture
def client() -> DomainClient:
    return DomainClient(town(), reference(), FixedClock(MONDAY_8AM))


def _report(**overrides: object) -> Report:
    grid = town().grids[0]
    values: dict[str, object] = {
        "category": "10001",
        "description": "暴露垃圾",
        "lon": grid.centroid[0],
        "lat": grid.centroid[1],
        "source": Source.GRID_WORKER,
        "actor": "gw",
        "role": Role.GRID_WORKER,
    }
    return Report(**(values | overrides))  # type: ignore[arg-type]


def test_an_illegal_transition_is_refused(client: DomainClient) -> None:
    ref = client.report(_report())
    with pytest.raises(Refused) as caught:
        client.act(ref.id, Act(Action.CLOSE, "值班长", Role.COMMANDER))
    assert caught.value.code == "illegal_transition"
    assert client.status(ref.id) is CaseStatus.REPORTED and client.refusals


def test_a_role_outside_the_matrix_is_refused(client: DomainClient) -> None:
    ref = client.report(_report())
    with pytest.raises(Refused, match="may not accept"):
        client.act(ref.id, Act(Action.ACCEPT, "gw", Role.GRID_WORKER))


def test_a_report_outside_the_region_or_of_an_unknown_category_is_refused(
    client: DomainClient,
) -> None:
    with pytest.raises(Refused):
        client.report(_report(lon=0.5, lat=0.5))
    with pytest.raises(Refused):
        client.report(_report(category="99999"))
    assert not client.cases


def test_the_same_idempotency_key_gives_the_same_case(client: DomainClient) -> None:
    first = client.report(_report(idempotency_key="k1"))
    again = client.report(_report(idempotency_key="k1"))
    assert first == again and len(client.cases) == 1


def test_register_gets_the_category_deadline_on_the_working_calendar(
    client: DomainClient,
) -> None:
    ref = client.report(_report())
    client.act(ref.id, Act(Action.ACCEPT, "受理员", Role.DISPATCHER))
    registered = client.act(
        ref.id, Act(Action.REGISTER, "受理员", Role.DISPATCHER, category="10001")
    )
    # 10001 (exposed garbage): 4 working hours from 08:00, i.e. 08:30-12:00 and 13:30-14:00.
    assert registered.deadline == datetime(2026, 11, 23, 14, 0, tzinfo=SHANGHAI)
