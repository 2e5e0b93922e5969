"""A real RTSP server with N test-pattern cameras, for the capture tests and the video benchmark.

Run with Debian's ``/usr/bin/python3`` (the GStreamer ``gi`` bindings live there, not in the
venv; ``scripts/system-deps.sh`` installs them)::

    /usr/bin/python3 tests/integration/rtsp_server.py --port 9100 --cameras 4

mounts ``rtsp://127.0.0.1:PORT/cam1`` … ``/camN`` (one shared pipeline per camera, whatever the
number of clients; with ``--same-stream`` one pipeline for all of them, so a load test of 150
cameras does not spend the machine on 150 encoders) and prints ``READY <port>`` once it
listens. ``--user``/``--password`` make
every mount require RTSP basic authentication. It never exits by itself: stop it with SIGTERM.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINE = (
    "( videotestsrc is-live=true pattern={pattern} ! "
    "video/x-raw,width={width},height={height},framerate={fps}/1 ! {overlay}"
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} ! "
    "rtph264pay name=pay0 pt=96 )"
)
PATTERNS = (0, 18, 13, 11, 21, 22, 19, 23, 24, 10)  # visibly different; no noise (huge JPEGs)


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cameras", type=int, default=4)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--fps", type=int, default=10)
    p.add_argument("--gop", type=int, default=10, help="frames between keyframes")
    p.add_argument("--no-overlay", action="store_true", help="no timeoverlay (cheaper)")
    p.add_argument(
        "--same-stream",
        action="store_true",
        help="every mount serves one shared encoder (load tests: N clients, one encode)",
    )
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    return p.parse_args()


class _OneMedia(GstRtspServer.RTSPMediaFactory):
    """--same-stream: one media (one encoder) for every mount: the cache key ignores the path."""

    def do_gen_key(self, url: object) -> str:
        return "one"


def _stream(args: argparse.Namespace, index: int) -> dict[str, object]:
    return {
        "pattern": PATTERNS[index % len(PATTERNS)],
        "width": args.width,
        "height": args.height,
        "fps": args.fps,
        "gop": args.gop,
        "overlay": "" if args.no_overlay else "timeoverlay ! ",
    }


def _auth(user: str, password: str) -> GstRtspServer.RTSPAuth:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
    basic = GstRtspServer.RTSPAuth.make_basic(user, password)
    auth.add_basic(basic, token)
    return auth


def _permissions() -> GstRtspServer.RTSPPermissions:
    perms = GstRtspServer.RTSPPermissions()
    perms.add_role("viewer")
    perms.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
    perms.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
    return perms


def main() -> int:
    args = _args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    if args.user:
        server.set_auth(_auth(args.user, args.password))
    mounts = server.get_mount_points()
    shared = _OneMedia() if args.same_stream else None
    for n in range(1, args.cameras + 1):
        factory = shared or GstRtspServer.RTSPMediaFactory()
        factory.set_launch(PIPELINE.format(**_stream(args, n - 1)))
        factory.set_shared(True)
        if args.user:
            factory.set_permissions(_permissions())
        mounts.add_factory(f"/cam{n}", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    signal.signal(signal.SIGINT, lambda *_: loop.quit())
    print(f"READY {args.port}", flush=True)
    GLib.timeout_add(200, lambda: True)  # lets Python run the signal handlers
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
