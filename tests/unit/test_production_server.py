"""The production server's own parts (dashboard/http/production.py, launch.py): which deployments
may run several workers, the connection cap per worker, and the WSGI middleware that holds a
slot for the life of a call and refuses the excess with 503."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dashboard.config import parse_config
from dashboard.http.production import (
    LimitedApp,
    LimitedThreadWorker,
    PortDispatch,
    connection_cap,
    gunicorn_options,
)
from dashboard.http.serving import ConnectionLimits
from dashboard.launch import deployment_problems

PG = '[database]\nurl = "postgresql+psycopg://gcc@127.0.0.1/gcc"\n'
REDIS = '[bus]\nbackend = "redis"\n'


def test_several_workers_need_redis_and_postgresql() -> None:
    assert deployment_problems(parse_config("")) == []  # one worker: anything goes
    both = deployment_problems(parse_config("[server]\nworkers = 2\n"))
    assert len(both) == 2 and "redis" in both[0] and "PostgreSQL" in both[1]
    assert deployment_problems(parse_config("[server]\nworkers = 2\n" + PG + REDIS)) == []


def test_the_cap_leaves_threads_for_pages_and_gunicorn_gets_whole_seconds() -> None:
    config = parse_config("[server]\nthreads = 50\nreserve_threads = 10\ngraceful_seconds = 2.5\n")
    assert connection_cap(config) == 40
    assert connection_cap(parse_config("[server]\nmax_connections = 5\n")) == 5
    options = gunicorn_options(config)
    assert options["graceful_timeout"] == 3 and isinstance(options["graceful_timeout"], int)
    assert options["threads"] == 50 and options["preload_app"] is False


class _Body:
    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Any:
        return iter([b"ok"])

    def close(self) -> None:
        self.closed = True


def test_a_call_holds_its_slot_until_its_body_is_closed() -> None:
    bodies: list[_Body] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        bodies.append(_Body())
        return bodies[-1]

    limited = LimitedApp(app, ConnectionLimits(per_address=1, total=10), idle_timeout=60)
    statuses: list[tuple[str, list[tuple[str, str]]]] = []

    def call(address: str) -> Any:
        return limited({"REMOTE_ADDR": address}, lambda s, h: statuses.append((s, h)))

    first = call("10.0.0.1")  # a websocket: its call lasts
    refused = call("10.0.0.1")
    assert statuses[-1][0].startswith("503") and ("Retry-After", "5") in statuses[-1][1]
    assert list(refused) == [b"too many connections"]
    assert call("10.0.0.2") is not None and statuses[-1][0] == "200 OK"  # another address
    first.close()
    assert bodies[0].closed
    call("10.0.0.1")
    assert statuses[-1][0] == "200 OK"  # the slot came back


def test_the_osmand_port_is_a_listener_of_the_master_and_kept_plain() -> None:
    """[tracks] osmand_port: bound once by gunicorn beside the web port (every worker accepts on
    both), served without TLS; the same port as the web port is refused before starting."""
    config = parse_config("[server]\nport = 8050\n[tracks]\nosmand_port = 5055\n")
    assert gunicorn_options(config)["bind"] == ["127.0.0.1:8050", "127.0.0.1:5055"]
    assert LimitedThreadWorker.plain_ports == frozenset({5055})
    assert gunicorn_options(parse_config(""))["bind"] == ["127.0.0.1:8050"]
    assert LimitedThreadWorker.plain_ports == frozenset()
    clash = deployment_problems(
        parse_config("[server]\nport = 8050\n[tracks]\nosmand_port = 8050\n")
    )
    assert len(clash) == 1 and "osmand_port" in clash[0]


class _Sock:
    def __init__(self, port: int) -> None:
        self.port = port

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def test_a_request_goes_to_the_app_of_the_port_it_came_in_on() -> None:
    def named(name: str) -> Any:
        def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            return [name.encode()]

        return app

    dispatch = PortDispatch(named("web"), {5055: named("osmand")})

    def served(environ: dict[str, Any]) -> bytes:
        return b"".join(dispatch(environ, lambda s, h: None))

    assert served({"gunicorn.socket": _Sock(5055), "HTTP_HOST": "x:8050"}) == b"osmand"
    assert served({"gunicorn.socket": _Sock(8050), "HTTP_HOST": "x:5055"}) == b"web"
    assert served({}) == b"web"  # not from gunicorn: the web app
