"""Errors of the capture service and its client. Messages name camera ids, never URLs."""

from __future__ import annotations


class CaptureError(Exception):
    """Base of the capture errors."""


class CaptureUnavailable(CaptureError):
    """The capture service (or the shard owning a camera) cannot be reached or failed."""


class CaptureBusy(CaptureUnavailable):
    """The shard serves as many full-size streams as it may (``video.capture_max_full_streams``)."""


class CameraOffline(CaptureError):
    """The camera is known but has no current frame (unreachable, stalled, starting too slowly)."""


class UnknownCamera(CaptureError):
    """No camera with this id in the registry of the shard that owns it."""


class MissingCredential(CaptureError):
    """A ``${ENV}`` placeholder of a camera URL names a variable that is not set."""
