"""Open311 GeoReport v2 at ``/open311/v2/`` (PROTOCOLS.md; docs/integrations.md).

JSON or XML by the suffix (``requests.json`` / ``requests.xml``); POST bodies form-encoded;
errors in the spec's own format (``[{"code", "description"}]``), never the house ``/api/v1``
one. The key (``api_key`` in the form or the query, or ``Authorization: Bearer``) is an
integration token; its configured source (12345 hotline, 110, 数字城管, public app) is what its
requests are reported as, its area what it may report in and read. Discovery and the service
list are public (the category tree); every read of cases needs a key unless
``[integrations] open311_anonymous_reads``. Keys are rate-limited like every token; anonymous
reads per client address.
"""

from __future__ import annotations

import logging
import re
from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from dashboard.container import Services
from dashboard.domain import open311 as spec
from dashboard.domain.errors import DomainError
from dashboard.domain.open311 import Open311Problem
from dashboard.domain.permissions import UNLIMITED
from dashboard.domain.roles import Role
from dashboard.domain.status import Source
from dashboard.domain.text import InvalidText, check_text
from dashboard.domain.time_bounds import TimeOutOfBounds, check_query_time
from dashboard.http.open311_format import answer, error_answer
from dashboard.security.principal import Principal
from dashboard.security.ratelimit import MemoryBuckets, retry_after
from dashboard.security.tokens import TokenRefused, hash_token
from dashboard.security.web import client_ip, public, security_of
from dashboard.services.cases import CaseNotFound
from dashboard.services.open311 import (
    IncomingUpdate,
    NewRequest,
    Open311Service,
    Reader,
    RequestQuery,
)
from dashboard.storage.db import DatabaseUnavailable
from dashboard.storage.models import ApiToken, County

logger = logging.getLogger(__name__)

ROOT = "/open311/v2"
FMT = "<any(json, xml):fmt>"
_EXT = "open311"
_CODE = re.compile(r"[0-9]{5}")
_ID = re.compile(r"[0-9]{1,9}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,40}")
_KEY = re.compile(r"[\x21-\x7e]{1,64}")
_PHONE = re.compile(r"[0-9+\- ]{0,20}")
MAX_FIELD = 100

bp = Blueprint("open311", __name__, url_prefix=ROOT)


def register_open311(server: Flask, services: Services) -> None:
    cfg = services.config.integrations
    server.extensions[_EXT] = (
        Open311Service(services.db, services.reference, services.cases, services.clock),
        MemoryBuckets(cfg.open311_anonymous_rate_per_second, cfg.open311_anonymous_burst),
    )
    server.register_blueprint(bp)


def _door() -> Open311Service:
    return cast(Open311Service, current_app.extensions[_EXT][0])


def _services() -> Services:
    return cast(Services, current_app.extensions["gcc"])


def _fmt() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


# --- input ---------------------------------------------------------------------------------------


@bp.before_request
def _check_text() -> None:
    """Every parameter is bounded text without control characters (400 otherwise); whether a
    POST's body is a form is the views' to say, after the key (``_writer``)."""
    fields = list(request.args.items(multi=True))
    if request.method == "POST":
        fields += list(request.form.items(multi=True))
    if len(fields) > 60:
        raise Open311Problem(400, "too many parameters")
    for name, value in fields:
        try:
            check_text(name, "parameter name")
            check_text(value, name)
        except InvalidText as err:
            raise Open311Problem(400, err.message) from None
        if len(name) > 60 or len(value) > spec.MAX_DESCRIPTION:
            raise Open311Problem(400, f"{name[:60]} is too long")


def _param(name: str, limit: int = MAX_FIELD) -> str:
    value = request.form.get(name) if request.method == "POST" else None
    if value is None:
        value = request.args.get(name, "")
    value = value.strip()
    if len(value) > limit:
        raise Open311Problem(400, f"{name} has over {limit} characters")
    return value


def _float(name: str, low: float, high: float) -> float | None:
    text = _param(name, 30)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Open311Problem(400, f"{name} must be a number") from None
    if not low <= value <= high:  # NaN fails this too
        raise Open311Problem(400, f"{name} must be a number {low:g}…{high:g}")
    return value


def _jurisdiction() -> str:
    given = _param("jurisdiction_id", 20)
    if not given:
        return ""
    with _services().db.read() as session:
        if session.get(County, given) is None:
            raise Open311Problem(404, f"jurisdiction_id {given!r} is not a county of this region")
    return given


# --- who asks ------------------------------------------------------------------------------------


def _key() -> Principal | None:
    """The integration key, if one was sent (403 when it is bad or not an integration's)."""
    if g.get("auth_via") == "bearer" and g.get("principal") is not None:
        who = cast(Principal, g.principal)
    else:
        key = _param("api_key", 200)
        if not key:
            if request.headers.get("Authorization"):
                raise Open311Problem(403, g.get("auth_error") or "the key was refused")
            return None
        if not _KEY.fullmatch(key):
            raise Open311Problem(403, "the api_key was refused")
        security = security_of(current_app)
        digest = hash_token(key)
        wait = security.limiter.take(digest)
        if wait > 0:
            raise _Limited(wait)
        try:
            who = security.tokens.authenticate_digest(digest, security.now())
        except TokenRefused as err:
            logger.info("open311: refused a key from %s: %s", client_ip(), err)
            raise Open311Problem(403, f"the api_key was refused ({err})") from None
    if who.role is not Role.INTEGRATION or who.kind != "token":
        raise Open311Problem(403, "this key is not an integration key")
    return who


class _Limited(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__("rate limited")
        self.wait = wait


def _reader(search: bool = False) -> Reader:
    """Who reads; a ``search`` (requests, updates) also spends the key's search bucket, as the
    case search does (dashboard.security.heavy)."""
    who = _key()
    if who is not None:
        limits = current_app.extensions.get("gcc_heavy_limits")
        if search and limits is not None:
            wait = limits["search"].take(f"{who.kind}:{who.id}")
            if wait > 0:
                raise _Limited(wait)
        return Reader(who.scope)
    if not _services().config.integrations.open311_anonymous_reads:
        raise Open311Problem(403, "an api_key is required to read service requests")
    buckets = cast(MemoryBuckets, current_app.extensions[_EXT][1])
    wait = buckets.take(client_ip())
    if wait > 0:
        raise _Limited(wait)
    return Reader(UNLIMITED, anonymous=True)


def _writer() -> tuple[Principal, Source]:
    """The key of a POST (403 first), then the body's form (400)."""
    who = _key()
    if who is None:
        raise Open311Problem(403, "an api_key is required")
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Open311Problem(
            400, "send the fields form-encoded (application/x-www-form-urlencoded)"
        )
    if request.files:
        raise Open311Problem(400, "no files: give a photo's address in media_url")
    with _services().db.read() as session:
        token = session.get(ApiToken, who.id)
        source = token.source if token is not None else None
    if not source:
        raise Open311Problem(
            403, "this key has no source configured (re-issue it with --source hotline|police|…)"
        )
    return who, Source(source)


# --- the calls -----------------------------------------------------------------------------------


@bp.get(f"/discovery.{FMT}")
@public
def discovery(fmt: str) -> Response:
    base = request.host_url.rstrip("/") + ROOT
    body = {
        "changeset": spec.CHANGESET,
        "contact": _services().config.integrations.open311_contact,
        "key_service": "run.py token create NAME --role integration --source SOURCE",
        "endpoints": [
            {
                "specification": spec.SPECIFICATION,
                "url": base,
                "changeset": spec.CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return answer(fmt, "discovery", body)


@bp.get(f"/services.{FMT}")
@public
def services(fmt: str) -> Response:
    _jurisdiction()
    return answer(fmt, "services", spec.services(_services().reference.categories))


@bp.get(f"/services/<service_code>.{FMT}")
@public
def service_definition(service_code: str, fmt: str) -> Response:
    code = service_code
    _jurisdiction()
    categories = _services().reference.categories
    if not _CODE.fullmatch(code) or code not in categories:
        raise Open311Problem(404, f"there is no service_code {code[:20]!r}")
    return answer(fmt, "service_definition", spec.service_definition(categories.get(code)))


@bp.post(f"/requests.{FMT}")
@public
def create_request(fmt: str) -> Response:
    who, source = _writer()
    _jurisdiction()
    code = _param("service_code", 10)
    if not code:
        raise Open311Problem(400, "service_code is required")
    if not _CODE.fullmatch(code) or code not in _services().reference.categories:
        raise Open311Problem(400, f"service_code {code!r} is not a service of this jurisdiction")
    lat, lon = _float("lat", -90, 90), _float("long", -180, 180)
    if (lat is None) != (lon is None):
        raise Open311Problem(400, "lat and long go together")
    media_url = _param("media_url", spec.MAX_MEDIA_URL)
    if media_url and not re.fullmatch(r"https?://[^\s]+", media_url):
        raise Open311Problem(400, "media_url must be an http:// or https:// address")
    phone = _param("phone", 20)
    if not _PHONE.fullmatch(phone):
        raise Open311Problem(400, "phone: digits, +, - and spaces only")
    name = f"{_param('last_name', 40)}{_param('first_name', 40)}"  # 姓名: family name first
    reporter = " ".join(p for p in (name, phone) if p)[:100]
    new = NewRequest(
        service_code=code,
        lat=lat,
        lon=lon,
        address_string=_param("address_string", 200),
        address_id=_param("address_id", 20),
        description=_param("description", spec.MAX_DESCRIPTION),
        reporter=reporter,
        account_id=_param("account_id", 100),
        media_url=media_url,
        emergency=_attribute_bool("emergency"),
        occurred_at=_attribute_time("occurred_at"),
        jurisdiction_id="",
    )
    _param("email", 100)
    _param("device_id", 100)
    idem = request.headers.get("Idempotency-Key")
    if idem is not None and not _KEY.fullmatch(idem):
        raise Open311Problem(400, "Idempotency-Key: 1-64 printable ASCII characters")
    created = _door().create(
        new,
        key_name=who.name,
        key_id=who.id,
        source=source,
        scope=who.scope,
        idempotency_key=f"open311:{who.id}:{idem}" if idem else None,  # apart from /api/v1's
    )
    return answer(fmt, "service_requests", [created], 201)


def _attribute(code: str) -> str:
    return _param(f"attribute[{code}]", 40)


def _attribute_bool(code: str) -> bool:
    value = _attribute(code).lower()
    if value not in ("", "true", "false"):
        raise Open311Problem(400, f"attribute[{code}] must be true or false")
    return value == "true"


def _attribute_time(code: str) -> Any:
    value = _attribute(code)
    return spec.parse_datetime(value, f"attribute[{code}]") if value else None


@bp.get(f"/requests.{FMT}")
@public
def list_requests(fmt: str) -> Response:
    reader = _reader(search=True)
    ids_text = _param("service_request_id", 1000)
    ids: tuple[int, ...] = ()
    if ids_text:
        parts = [p.strip() for p in ids_text.split(",") if p.strip()]
        if len(parts) > spec.MAX_IDS or not all(_ID.fullmatch(p) for p in parts):
            raise Open311Problem(
                400, f"service_request_id: up to {spec.MAX_IDS} ids, comma separated"
            )
        ids = tuple(int(p) for p in parts)
    codes = tuple(c for c in (s.strip() for s in _param("service_code", 600).split(",")) if c)
    if not all(_CODE.fullmatch(c) for c in codes):
        raise Open311Problem(400, "service_code: 5-digit codes, comma separated")
    statuses = tuple(s for s in (x.strip() for x in _param("status", 20).split(",")) if s)
    for status in statuses:
        spec.statuses_for(status)
    now = _services().clock.now()
    start, end = (_time(name, now) for name in ("start_date", "end_date"))
    start, end = spec.check_range(start, end, now)
    query = RequestQuery(
        ids=ids,
        service_codes=codes,
        statuses=statuses,
        start=start,
        end=end,
        jurisdiction_id=_jurisdiction(),
        page=spec.parse_bounded_int(_param("page", 6), "page", 1, 1, spec.MAX_PAGE),
        page_size=spec.parse_bounded_int(
            _param("page_size", 6), "page_size", spec.DEFAULT_PAGE_SIZE, 1, spec.MAX_PAGE_SIZE
        ),
    )
    return answer(fmt, "service_requests", _door().requests(query, reader))


def _time(name: str, now: Any) -> Any:
    value = _param(name, 40)
    if not value:
        return None
    when = spec.parse_datetime(value, name)
    try:
        check_query_time(when, now, name)
    except TimeOutOfBounds as err:
        raise Open311Problem(400, err.message) from None
    return when


@bp.get(f"/requests/<service_request_id>.{FMT}")
@public
def get_request(service_request_id: str, fmt: str) -> Response:
    request_id = service_request_id
    reader = _reader()
    if not _ID.fullmatch(request_id):
        raise Open311Problem(404, f"there is no service request {request_id[:20]!r}")
    return answer(fmt, "service_requests", _door().request(int(request_id), reader))


@bp.get(f"/tokens/<token>.{FMT}")
@public
def get_token(token: str, fmt: str) -> Response:
    reader = _reader()
    if not _TOKEN.fullmatch(token):
        raise Open311Problem(404, "there is no request with this token")
    return answer(fmt, "service_requests", _door().by_token(token, reader))


@bp.get(f"/servicerequestupdates.{FMT}")
@public
def list_updates(fmt: str) -> Response:
    reader = _reader(search=True)
    now = _services().clock.now()
    start, end = (_time(name, now) for name in ("start_date", "end_date"))
    start, end = spec.check_range(start, end, now)
    page = spec.parse_bounded_int(_param("page", 6), "page", 1, 1, spec.MAX_PAGE)
    size = spec.parse_bounded_int(
        _param("page_size", 6), "page_size", spec.DEFAULT_PAGE_SIZE, 1, spec.MAX_PAGE_SIZE
    )
    items = _door().updates(start, end, page, size, reader)
    return answer(fmt, "service_request_updates", items)


@bp.post(f"/servicerequestupdates.{FMT}")
@public
def post_update(fmt: str) -> Response:
    who, _source = _writer()
    request_id = _param("service_request_id", 12)
    external = _param("update_id", 64)
    if not _ID.fullmatch(request_id):
        raise Open311Problem(400, "service_request_id is required (a request's id)")
    if not external:
        raise Open311Problem(400, "update_id is required (your id of this update)")
    status = _param("status", 10).lower()
    if status not in ("open", "closed"):
        raise Open311Problem(400, "status must be open or closed")
    stamp = _param("updated_datetime", 40)
    if not stamp:
        raise Open311Problem(400, "updated_datetime is required")
    now = _services().clock.now()
    updated = spec.parse_datetime(stamp, "updated_datetime")
    try:
        check_query_time(updated, now, "updated_datetime")
    except TimeOutOfBounds as err:
        raise Open311Problem(400, err.message) from None
    rating = _param("satisfaction", 2)
    if rating and rating not in ("1", "2", "3", "4", "5"):
        raise Open311Problem(400, "satisfaction must be 1–5")
    media_url = _param("media_url", spec.MAX_MEDIA_URL)
    if media_url and not re.fullmatch(r"https?://[^\s]+", media_url):
        raise Open311Problem(400, "media_url must be an http:// or https:// address")
    update = IncomingUpdate(
        service_request_id=int(request_id),
        external_id=external,
        status=status,
        description=_param("description", 2000),
        media_url=media_url,
        updated_at=updated,
        satisfaction=int(rating) if rating else None,
    )
    taken = _door().take_update(update, key_name=who.name, key_id=who.id, reader=Reader(who.scope))
    return answer(fmt, "service_request_updates", [taken], 201)


@bp.route("/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@public
def no_route(_rest: str) -> Response:
    raise Open311Problem(404, f"there is no Open311 call {request.path[:80]}")


# --- errors: the spec's format -------------------------------------------------------------------


@bp.errorhandler(Open311Problem)
def _problem(err: Open311Problem) -> Response:
    return error_answer(_fmt(), err.status, err.description)


@bp.errorhandler(_Limited)
def _limited(err: _Limited) -> Response:
    response = error_answer(_fmt(), 429, "too many requests; retry later")
    response.headers["Retry-After"] = retry_after(err.wait)
    return response


@bp.errorhandler(Exception)
def _other(err: Exception) -> Response:
    fmt = _fmt()
    if isinstance(err, CaseNotFound):
        return error_answer(fmt, 404, err.message)
    if isinstance(err, DomainError):  # a report the core refused: the reason, as a 400
        return error_answer(fmt, 400, err.message)
    if isinstance(err, HTTPException):
        return error_answer(fmt, err.code or 500, err.description or err.name)
    if isinstance(err, OperationalError | DatabaseUnavailable):
        response = error_answer(fmt, 503, "the database is busy or unreachable; retry shortly")
        response.headers["Retry-After"] = "1"
        return response
    logger.exception("open311 request %s %s failed", request.method, request.path)
    return error_answer(fmt, 500, "the server could not handle the request")
