"""gzip for text answers (pages, Dash's scripts, JSON, GeoJSON) when the client accepts it.

The wall at city scale loaded ~1.7 MB of scripts and 1.1 MB of villages uncompressed from the
built-in server; gzip makes them ~4–5 times smaller. Behind the reverse proxy of deploy/ the proxy
may compress as well: an answer that already has a Content-Encoding is left alone. Streams
(MJPEG, file downloads sent as passthrough) are never buffered. Compressed bodies of answers that
repeat byte for byte (Dash's bundles, an unchanged GeoJSON layer) are kept, keyed by a hash of the
body, so a reload costs a hash, not a compression; the cache is bounded.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from threading import Lock

from flask import Flask, Response, request

MIN_BYTES = 1024
_TYPES = (
    "text/",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "image/svg+xml",
)
_CACHE_BYTES = 32 * 1024 * 1024
_CACHE_FROM = 64 * 1024  # only large bodies are worth remembering


class _Cache:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._size = 0
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = Lock()

    def compressed(self, body: bytes) -> bytes:
        if len(body) < _CACHE_FROM:
            return gzip.compress(body, 6)
        key = hashlib.blake2b(body, digest_size=16).digest()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        data = gzip.compress(body, 6)
        with self._lock:
            if key not in self._items:
                self._items[key] = data
                self._size += len(data)
            while self._size > self._limit and self._items:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)
        return data


def _worth_it(response: Response) -> bool:
    if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
        return False
    if "Content-Encoding" in response.headers:
        return False
    if not (response.mimetype or "").startswith(_TYPES):
        return False
    # The client's Accept-Encoding with its weights: "gzip;q=0" or "identity" alone refuse gzip,
    # "*" accepts it; no header at all is no gzip (a client we can't be sure decodes it).
    return request.accept_encodings["gzip"] > 0


def install_compression(server: Flask) -> None:
    cache = _Cache(_CACHE_BYTES)

    def compress(response: Response) -> Response:
        response.vary.add("Accept-Encoding")
        if not _worth_it(response):
            return response
        body = response.get_data()
        if len(body) < MIN_BYTES:
            return response
        response.set_data(cache.compressed(body))
        response.headers["Content-Encoding"] = "gzip"
        etag, weak = response.get_etag()
        if etag and not weak:  # the same entity in another encoding: a weak validator
            response.set_etag(etag, weak=True)
        return response

    server.after_request(compress)
