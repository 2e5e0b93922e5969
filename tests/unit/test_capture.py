"""The capture service's pure parts: sharding, backoff, URL placeholders, frame records,
synthetic cameras, the frame slot and the registry's shard filter."""

from __future__ import annotations

import string
import zlib
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.config import ConfigError, VideoConfig, parse_config
from streams.capture import shard_of
from streams.capture.errors import MissingCredential
from streams.capture.fonts import FALLBACK_FACE, cjk_font
from streams.capture.records import Frame, RecordError, decode_frames, encode_frames
from streams.capture.registry import CameraEntry, Registry, load_cameras, resolve
from streams.capture.server import BadRequest, _after
from streams.capture.synthetic import PATTERNS, SyntheticCamera, pattern_of
from streams.capture.worker import FrameSlot, backoff_delay

IDS = st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=40)


# --- sharding ---------------------------------------------------------------------------------


def test_shard_of_is_crc32_and_stable() -> None:
    # Pinned values: every process (web and capture, any run, any Python) must agree on them.
    assert [shard_of(f"CAM-330681109002-0{i}", 4) for i in range(1, 6)] == [0, 2, 0, 3, 1]
    assert shard_of("CAM-1", 1) == 0
    assert shard_of("CAM-330681109002-01", 3) == zlib.crc32(b"CAM-330681109002-01") % 3


@given(IDS, st.integers(min_value=1, max_value=64))
def test_shard_of_in_range(camera_id: str, n: int) -> None:
    assert 0 <= shard_of(camera_id, n) < n


def test_shard_of_spreads_cameras() -> None:
    counts = [0, 0, 0, 0]
    for i in range(2000):
        counts[shard_of(f"CAM-{i:05d}", 4)] += 1
    assert min(counts) > 400  # 500 each on average


def test_shard_of_refuses_no_shards() -> None:
    with pytest.raises(ValueError):
        shard_of("CAM-1", 0)


# --- backoff ----------------------------------------------------------------------------------


def test_backoff_follows_go2rtc_steps_and_repeats_the_last() -> None:
    steps = (1.0, 5.0, 10.0, 60.0)
    assert [backoff_delay(n, steps) for n in range(0, 7)] == [0, 1, 5, 10, 60, 60, 60]


def test_backoff_default_config() -> None:
    assert VideoConfig().backoff_seconds == [1.0, 5.0, 10.0, 60.0]


# --- ${ENV} placeholders ----------------------------------------------------------------------


def test_resolve_fills_placeholders_from_the_environment() -> None:
    env = {"CAM_USER": "admin", "CAM_PASS": "p@ss:w/rd", "CAM_HOST": "10.0.0.8"}
    url = "rtsp://${CAM_USER}:${CAM_PASS}@${CAM_HOST}:554/Streaming/101"
    # credentials are percent-encoded, the rest is taken as written
    assert resolve(url, env) == "rtsp://admin:p%40ss%3Aw%2Frd@10.0.0.8:554/Streaming/101"


def test_resolve_whole_url_from_the_environment() -> None:
    env = {"CAM1_URL": "rtsp://u:p@10.0.0.9/main"}
    assert resolve("${CAM1_URL}", env) == "rtsp://u:p@10.0.0.9/main"


def test_resolve_without_placeholders_is_unchanged() -> None:
    assert resolve("rtsp://10.0.0.8/main", {}) == "rtsp://10.0.0.8/main"
    assert resolve("synthetic:", {}) == "synthetic:"


def test_missing_variable_names_it_without_the_url() -> None:
    url = "rtsp://admin:${CAM_PASS}@10.0.0.8/main"
    with pytest.raises(MissingCredential) as err:
        resolve(url, {})
    assert "CAM_PASS" in str(err.value)
    assert "10.0.0.8" not in str(err.value) and "admin" not in str(err.value)


def test_camera_entry_repr_hides_the_url() -> None:
    entry = CameraEntry("CAM-1", "x", "rtsp://admin:secret@10.0.0.8/main")
    assert "secret" not in repr(entry) and "10.0.0.8" not in repr(entry)


# --- configuration ----------------------------------------------------------------------------


def test_video_config_cameras_and_shards() -> None:
    config = parse_config(
        '[video]\ncapture_port = 9100\n[[video.cameras]]\nid = "GATE-1"\n'
        'stream_url = "rtsp://${GATE_USER}:${GATE_PASS}@10.0.0.8/main"\n'
    )
    assert config.video.shard_urls() == ["http://127.0.0.1:9100"]
    cameras = load_cameras(None, config.video)
    assert list(cameras) == ["GATE-1"] and cameras["GATE-1"].name == "GATE-1"


@pytest.mark.parametrize(
    "url", ["rtsp://admin:12345@10.0.0.8/main", "rtsp://admin:x${P}@10.0.0.8/main"]
)
def test_a_clear_password_in_the_file_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(f'[[video.cameras]]\nid = "C1"\nstream_url = "{url}"\n')
    assert "video.cameras.0.stream_url" in str(err.value)
    assert "12345" not in str(err.value)


# --- frame records ----------------------------------------------------------------------------


def _frame(camera_id: str, seq: int, jpeg: bytes) -> Frame:
    return Frame(camera_id, seq, datetime(2026, 11, 22, 8, 0, 0, 123456, UTC), 320, 180, jpeg)


def test_records_round_trip() -> None:
    frames = [_frame("CAM-1", 1, b"\xff\xd8a\xff\xd9"), _frame("摄像头-2", 2**40, b"")]
    assert decode_frames(encode_frames(frames)) == frames
    assert decode_frames(b"") == []


@given(st.lists(st.tuples(IDS, st.integers(0, 2**53), st.binary(max_size=64)), max_size=5))
def test_records_round_trip_any(items: list[tuple[str, int, bytes]]) -> None:
    frames = [_frame(i, s, b) for i, s, b in items]
    assert decode_frames(encode_frames(frames)) == frames


def test_records_layout_is_big_endian_lengths() -> None:
    body = encode_frames([_frame("C", 7, b"JPEG")])
    header_len = int.from_bytes(body[:4], "big")
    assert body[4 : 4 + header_len].startswith(b'{"id":"C","seq":7')
    assert body[4 + header_len : 8 + header_len] == (4).to_bytes(4, "big")
    assert body.endswith(b"JPEG")


@pytest.mark.parametrize("cut", [2, 10, -2])
def test_truncated_records_are_refused(cut: int) -> None:
    body = encode_frames([_frame("CAM-1", 1, b"0123456789")])
    with pytest.raises(RecordError):
        decode_frames(body[:cut])


def test_after_parameter() -> None:
    assert _after("a:12,b-2:3") == {"a": 12, "b-2": 3}
    assert _after("") == {}
    with pytest.raises(BadRequest):
        _after("a:x")


# --- the frame slot ---------------------------------------------------------------------------


def test_slot_seq_only_grows_and_jpeg_is_encoded_once() -> None:
    slot = FrameSlot("CAM-1", 70)
    assert slot.frame() is None and slot.size == (0, 0)
    image = np.zeros((180, 320, 3), np.uint8)
    first = slot.put(image, 1_800_000_000.0)
    second = slot.put(image, 1_700_000_000.0)  # a clock step back must not reuse seqs
    assert second == first + 1
    frame = slot.frame()
    assert frame is not None and frame.seq == second and (frame.width, frame.height) == (320, 180)
    assert slot.frame() is not None and slot.frame().jpeg is frame.jpeg  # type: ignore[union-attr]
    assert slot.current == second
    slot.clear()  # its reader stopped: the frame is no longer current, the seq stays
    assert slot.current == 0 and slot.frame() is None
    assert slot.put(image, 1_700_000_000.0) == second + 1


# --- synthetic cameras ------------------------------------------------------------------------


def _draw(camera_id: str, at: float, url: str = "synthetic:") -> np.ndarray:
    return SyntheticCamera(camera_id, "枫桥村 村口", url, 320, 180).draw(at)


def test_synthetic_cameras_differ_from_each_other() -> None:
    frames = [_draw(f"CAM-330681109002-0{i}", 1_800_000_000.0) for i in range(1, 6)]
    for i, a in enumerate(frames):
        for b in frames[i + 1 :]:
            assert np.abs(a.astype(int) - b.astype(int)).mean() > 5


def test_synthetic_frames_change_over_time() -> None:
    camera = SyntheticCamera("CAM-1", "", "synthetic:", 320, 180)
    a, b = camera.draw(1_800_000_000.0), camera.draw(1_800_000_001.0)
    assert a.shape == (180, 320, 3)
    assert (a != b).any(axis=2).sum() > 200  # the ball moved and the clock ticked


def test_synthetic_pattern_from_the_url_or_the_id() -> None:
    assert pattern_of("CAM-1", "synthetic:grid") == "grid"
    assert pattern_of("CAM-1", "synthetic:") in PATTERNS
    assert not np.array_equal(
        _draw("CAM-1", 1_800_000_000.0, "synthetic:grid"),
        _draw("CAM-1", 1_800_000_000.0, "synthetic:rings"),
    )


def test_synthetic_frame_encodes_as_jpeg() -> None:
    ok, buf = cv2.imencode(".jpg", _draw("CAM-1", 1_800_000_000.0))
    assert ok and buf.tobytes()[:2] == b"\xff\xd8"


# --- registry ---------------------------------------------------------------------------------


def test_registry_keeps_only_its_shard_and_reloads_on_unknown_ids() -> None:
    cameras = {f"CAM-{i}": CameraEntry(f"CAM-{i}", "", "synthetic:") for i in range(40)}
    loads: list[int] = []
    now = [0.0]

    def loader() -> dict[str, CameraEntry]:
        loads.append(1)
        return dict(cameras)

    registries = [Registry(loader, shard, 3, clock=lambda: now[0]) for shard in range(3)]
    assert sorted(i for r in registries for i in r.ids()) == sorted(cameras)
    cameras["CAM-NEW"] = CameraEntry("CAM-NEW", "", "synthetic:")
    owner = registries[shard_of("CAM-NEW", 3)]
    assert owner.get("CAM-NEW") is None  # loaded just now: no reload yet
    now[0] += 10
    assert owner.get("CAM-NEW") is not None  # unknown id, last load old enough: reloaded


def test_camera_names_are_drawn_in_chinese_not_question_marks() -> None:
    """The synthetic frames draw with a CJK font (make run and make test install one): the name
    band of a camera called 枫桥 differs from one called ?? (what a font without Chinese draws)."""
    assert cjk_font() != FALLBACK_FACE, "no CJK font: install fonts-noto-cjk"

    def name_band(name: str) -> np.ndarray:
        frame = SyntheticCamera("cam-1", name, "synthetic:gradient", 320, 180).draw(0.0)
        return frame[:24].astype(int)

    assert np.abs(name_band("枫桥") - name_band("??")).sum() > 0
    assert np.abs(name_band("枫桥") - name_band("枫桥")).sum() == 0  # same name, same pixels
