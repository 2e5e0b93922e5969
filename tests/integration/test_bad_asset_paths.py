"""Unknown Dash component-suite paths answer 404 quietly (issue 11: an unauthenticated bad
``/_dash-component-suites`` path gave a 500 and ~40 lines of log)."""

from __future__ import annotations

import logging

import pytest

from tests.integration import test_security_support as support
from tests.integration.test_security_support import SecureApp

_secure_apps, lite_secure = support._secure_apps, support.lite_secure

BAD_PATHS = [
    "/_dash-component-suites/no_such_package/x.js",
    "/_dash-component-suites/dash/no-such-file.v1m1.js",
    "/_dash-component-suites/dash/../../../etc/passwd",
    "/_dash-component-suites/dash/dcc/%00.js",
    "/_dash-component-suites/dash/deps/react@18.v9.js.map",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_component_suite_paths_are_404_without_a_trace(
    lite_secure: SecureApp, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    lite_secure.client().get("/healthz")  # Dash sets its routes up on the first request
    with caplog.at_level(logging.INFO):
        response = lite_secure.client().get(path)
    assert response.status_code == 404
    assert "Traceback" not in caplog.text and len(caplog.records) <= 1
