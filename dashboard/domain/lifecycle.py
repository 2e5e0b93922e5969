"""The case state machine: apply one action to a case and say what happened.

DOMAIN.md, "Case lifecycle". Pure: the caller passes ``now`` and, where an action moves the
deadline (register, extend, resume), the new deadline it computed with the working calendar, so
this module needs neither a clock nor a calendar. A successful action returns a ``Transition``:
the audit record of the step together with the new, immutable ``CaseState``. A refused one raises
``IllegalTransition`` with a stable ``code`` and a plain-English message naming the action and
the current status. The table and the value types live in ``transitions.py``; this file is the
machine itself, one short handler per action, kept together so each rule is read in one place.

Role permissions are not checked here (the security issue adds them); actor and role are recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from dashboard.domain.status import Action, CaseStatus, Source
from dashboard.domain.text import check_text
from dashboard.domain.time_bounds import check_deadline
from dashboard.domain.transitions import (
    DEFAULT_POLICY,
    TRANSITIONS,
    ActionRequest,
    CaseState,
    IllegalTransition,
    LifecyclePolicy,
    Transition,
)

__all__ = [
    "DEFAULT_POLICY",
    "RATING_RANGE",
    "ActionRequest",
    "CaseState",
    "IllegalTransition",
    "LifecyclePolicy",
    "Transition",
    "allowed_actions",
    "apply_action",
    "new_case",
]

RATING_RANGE = range(1, 6)  # satisfaction and report rating: 1-5


def new_case(source: Source, reported_at: datetime, *, emergency: bool = False) -> CaseState:
    if not _is_aware(reported_at):
        raise IllegalTransition(
            "naive_time", f"reported_at must be timezone-aware, got {reported_at.isoformat()}"
        )
    return CaseState(
        status=CaseStatus.REPORTED,
        source=source,
        emergency=emergency,
        reported_at=reported_at,
        updated_at=reported_at,
    )


def allowed_actions(
    state: CaseState, policy: LifecyclePolicy = DEFAULT_POLICY
) -> frozenset[Action]:
    """The actions the case admits now (a request may still lack what the action needs)."""
    actions = _rule_allows(state)
    if _needs_verification(state, policy):
        actions.discard(Action.REGISTER)
    if state.evaluation is not None and state.report_rating is not None:
        actions.discard(Action.EVALUATE)
    return frozenset(actions)


def apply_action(
    state: CaseState,
    request: ActionRequest,
    now: datetime,
    policy: LifecyclePolicy = DEFAULT_POLICY,
) -> Transition:
    """Apply ``request`` to ``state`` at ``now``; raise ``IllegalTransition`` if it is refused."""
    step = _Step(state, request, now, policy)
    for moment, what in ((now, "now"), (request.deadline, "the deadline")):
        if moment is not None and not _is_aware(moment):
            raise step.refused("naive_time", f"{what} must be timezone-aware, got {moment}")
    if request.deadline is not None:
        check_deadline(request.deadline, now)  # TimeOutOfBounds: beyond the sane window
    for field, text in (
        ("actor", request.actor),
        ("note", request.note),
        ("reason", request.reason),
    ):
        check_text(text, field)  # InvalidText: a control character (a NUL) in what is stored
    if state.updated_at is not None and now < state.updated_at:
        raise step.refused(
            "time_out_of_order",
            f"{now.isoformat()} is before the case's last step at {state.updated_at.isoformat()}",
        )
    if not request.actor.strip():
        raise step.refused("actor_required", "say who acts (actor is empty)")
    allowed = allowed_actions(state, policy)
    if request.action not in allowed:
        if request.action in _rule_allows(state) and _needs_verification(state, policy):
            raise step.refused(
                "verification_required",
                "a public report must be verified by a grid worker first "
                f"(request_verify, then verify); allowed now: {_listing(allowed)}",
            )
        raise IllegalTransition(
            "illegal_transition",
            f"cannot {request.action} a case that is {state.status}; "
            f"allowed now: {_listing(allowed)}",
            status=state.status,
            action=request.action,
        )
    after, details = _HANDLERS[request.action](step)
    after = replace(after, updated_at=now)
    return Transition(
        action=request.action,
        before=state.status,
        after=after.status,
        at=now,
        actor=request.actor,
        role=request.role,
        note=request.note,
        reason=request.reason,
        attachments=request.attachments,
        details=MappingProxyType(details),
        state=after,
    )


class _Step(NamedTuple):
    """What a handler sees, with the checks the handlers share."""

    state: CaseState
    req: ActionRequest
    now: datetime
    policy: LifecyclePolicy

    def refused(self, code: str, detail: str) -> IllegalTransition:
        return IllegalTransition.refused(code, self.state.status, self.req.action, detail)

    def reason(self, what: str) -> None:
        if self.req.reason is None or not self.req.reason.strip():
            raise self.refused("reason_required", f"a reason is required: {what}")

    def deadline(self) -> datetime:
        if self.req.deadline is None:
            raise self.refused(
                "deadline_required", "a deadline (computed by the caller) is required"
            )
        return self.req.deadline

    def future_deadline(self) -> datetime:
        """A deadline the user sets (register, extend): it must lie after ``now``, or the case
        would be overdue the moment it is given (and an extension would shrink the lateness)."""
        deadline = self.deadline()
        if deadline <= self.now:
            raise self.refused(
                "deadline_passed",
                f"the deadline {deadline.isoformat()} is not after now ({self.now.isoformat()})",
            )
        return deadline

    def photo(self, required: bool, what: str) -> None:
        if required and not self.req.attachments:
            raise self.refused("photo_required", f"attach {what}")


# --- one handler per action: check what it needs, return the new state and the details ---

_Outcome = tuple[CaseState, dict[str, str]]


def _accept(s: _Step) -> _Outcome:
    return replace(s.state, status=CaseStatus.ACCEPTED, accepted_at=s.now), {}


def _request_verify(s: _Step) -> _Outcome:
    return replace(s.state, status=CaseStatus.VERIFYING), {}


def _verify(s: _Step) -> _Outcome:
    return replace(s.state, status=CaseStatus.VERIFIED, verified_at=s.now), {}


def _void(s: _Step) -> _Outcome:
    s.reason("why it is void (invalid, duplicate...)")
    return replace(s.state, status=CaseStatus.VOIDED, voided_at=s.now), {}


def _register(s: _Step) -> _Outcome:
    if not s.req.category_code:
        raise s.refused("category_required", "a category (小类) is required")
    deadline = s.future_deadline()
    details = {"category": s.req.category_code, "deadline": deadline.isoformat()}
    # The category's default department, if the caller proposes one; dispatch may override it.
    department = s.req.department_code or s.state.department_code
    if department:
        details["department"] = department
    after = replace(
        s.state,
        status=CaseStatus.REGISTERED,
        category_code=s.req.category_code,
        department_code=department,
        deadline=deadline,
        registered_at=s.now,
    )
    return after, details


def _dispatch(s: _Step) -> _Outcome:
    department = s.req.department_code or s.state.department_code
    if not department:
        raise s.refused("department_required", "name the department to send it to")
    if s.state.status is CaseStatus.RETURNED and department == s.state.returned_by:
        raise s.refused(
            "same_department",
            f"department {department} returned this case; dispatch it to another department",
        )
    after = replace(
        s.state,
        status=CaseStatus.DISPATCHED,
        department_code=department,
        dispatched_at=s.now,
        dispatch_count=s.state.dispatch_count + 1,
    )
    return after, {"department": department}


def _start(s: _Step) -> _Outcome:
    return replace(s.state, status=CaseStatus.HANDLING), _department(s.state)


def _return(s: _Step) -> _Outcome:
    s.reason("why the department returns it (e.g. not its responsibility)")
    after = replace(
        s.state,
        status=CaseStatus.RETURNED,
        department_code=None,
        returned_by=s.state.department_code,
        return_count=s.state.return_count + 1,
    )
    return after, _department(s.state)


def _extend(s: _Step) -> _Outcome:
    deadline, old = s.future_deadline(), s.state.deadline
    if old is not None and deadline <= old:
        raise s.refused(
            "deadline_not_later",
            f"the new deadline {deadline.isoformat()} is not later than {old.isoformat()}",
        )
    after = replace(s.state, deadline=deadline, extension_count=s.state.extension_count + 1)
    return after, _deadlines(old, deadline)


def _suspend(s: _Step) -> _Outcome:
    s.reason("why the case is suspended")
    after = replace(
        s.state,
        status=CaseStatus.SUSPENDED,
        resume_status=s.state.status,
        suspended_at=s.now,
        suspend_count=s.state.suspend_count + 1,
    )
    return after, {"resume_status": str(s.state.status)}


def _resume(s: _Step) -> _Outcome:
    back_to = s.state.resume_status
    if back_to is None:
        raise s.refused("resume_status_unknown", "the status it was suspended in is not recorded")
    deadline = s.deadline()
    details = _deadlines(s.state.deadline, deadline)
    if s.state.suspended_at is not None:
        details["suspended_at"] = s.state.suspended_at.isoformat()
    after = replace(
        s.state, status=back_to, deadline=deadline, suspended_at=None, resume_status=None
    )
    return after, details


def _handled(s: _Step) -> _Outcome:
    s.photo(s.policy.require_handled_photo, "a photo of the result")
    return replace(s.state, status=CaseStatus.HANDLED, handled_at=s.now), _department(s.state)


def _check_pass(s: _Step) -> _Outcome:
    s.photo(s.policy.require_check_photo, "a photo from the site")
    return replace(s.state, status=CaseStatus.CHECKED, checked_at=s.now), {}


def _check_fail(s: _Step) -> _Outcome:
    s.reason("what is still wrong on site")
    s.photo(s.policy.require_check_photo, "a photo from the site")
    after = replace(
        s.state,
        status=CaseStatus.REWORK,  # back to the same department
        checked_at=s.now,
        rework_count=s.state.rework_count + 1,
    )
    return after, _department(s.state)


def _self_handle(s: _Step) -> _Outcome:
    s.photo(s.policy.require_handled_photo, "a photo of the result")
    category = s.req.category_code or s.state.category_code
    after = replace(
        s.state, status=CaseStatus.SELF_HANDLED, handled_at=s.now, category_code=category
    )
    return after, ({"category": category} if category else {})


def _close(s: _Step) -> _Outcome:
    on_time = None if s.state.deadline is None else s.now <= s.state.deadline
    after = replace(s.state, status=CaseStatus.CLOSED, closed_at=s.now, closed_on_time=on_time)
    return after, ({} if on_time is None else {"closed_on_time": str(on_time).lower()})


def _evaluate(s: _Step) -> _Outcome:
    ratings = (
        ("satisfaction", s.req.satisfaction, s.state.evaluation),
        ("report_rating", s.req.report_rating, s.state.report_rating),
    )
    if all(new is None for _, new, _ in ratings):
        raise s.refused("rating_required", "give a satisfaction or a report rating (1-5)")
    details: dict[str, str] = {}
    for name, new, old in ratings:
        if new is None:
            continue
        # bool is an int subclass; True is not a rating.
        if isinstance(new, bool) or new not in RATING_RANGE:
            raise s.refused("rating_out_of_range", f"{name} must be 1 to 5, got {new!r}")
        if old is not None:
            raise s.refused("already_evaluated", f"{name} was already given ({old})")
        details[name] = str(new)
    after = replace(
        s.state,
        status=CaseStatus.EVALUATED,
        evaluated_at=s.now,
        evaluation=s.state.evaluation if s.req.satisfaction is None else s.req.satisfaction,
        report_rating=(
            s.state.report_rating if s.req.report_rating is None else s.req.report_rating
        ),
    )
    return after, details


_HANDLERS: Mapping[Action, Callable[[_Step], _Outcome]] = MappingProxyType(
    {
        Action.ACCEPT: _accept,
        Action.REQUEST_VERIFY: _request_verify,
        Action.VERIFY: _verify,
        Action.VOID: _void,
        Action.REGISTER: _register,
        Action.DISPATCH: _dispatch,
        Action.START: _start,
        Action.RETURN: _return,
        Action.EXTEND: _extend,
        Action.SUSPEND: _suspend,
        Action.RESUME: _resume,
        Action.HANDLED: _handled,
        Action.CHECK_PASS: _check_pass,
        Action.CHECK_FAIL: _check_fail,
        Action.SELF_HANDLE: _self_handle,
        Action.CLOSE: _close,
        Action.EVALUATE: _evaluate,
    }
)


def _rule_allows(state: CaseState) -> set[Action]:
    return {action for action, rule in TRANSITIONS.items() if state.status in rule.sources}


def _needs_verification(state: CaseState, policy: LifecyclePolicy) -> bool:
    return (
        policy.require_verify_for_public
        and state.source is Source.PUBLIC
        and state.status is not CaseStatus.VERIFIED
    )


def _is_aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None


def _listing(actions: frozenset[Action]) -> str:
    if not actions:
        return "nothing (the case is finished)"
    return ", ".join(sorted(str(action) for action in actions))


def _department(state: CaseState) -> dict[str, str]:
    return {"department": state.department_code} if state.department_code else {}


def _deadlines(old: datetime | None, new: datetime) -> dict[str, str]:
    details = {"new_deadline": new.isoformat()}
    if old is not None:
        details["old_deadline"] = old.isoformat()
    return details
