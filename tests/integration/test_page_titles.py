"""The browser tab's title follows the reader's language (``?lang=en``), on the first page and
on each navigation (Dash's router callback asks the page for its title)."""

from __future__ import annotations

from flask.testing import FlaskClient

from dashboard.domain.roles import Role
from tests.integration import test_security_support as support
from tests.integration.test_security_matrix import _router_body
from tests.integration.test_security_support import SecureApp

_secure_apps, lite_secure = support._secure_apps, support.lite_secure


def _title(client: FlaskClient, headers: dict[str, str], pathname: str, search: str) -> str:
    response = client.post(
        "/_dash-update-component", json=_router_body(pathname, search), headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return str(response.get_json()["response"]["_pages_store"]["data"]["title"])


def test_titles_in_the_readers_language(lite_secure: SecureApp) -> None:
    product_zh = lite_secure.services.config.ui.title
    lite_secure.user("titles", Role.COMMANDER)
    client, csrf = lite_secure.signed_in("titles")
    headers = lite_secure.csrf_headers(csrf)
    assert _title(client, headers, "/cases", "") == f"事件查询 · {product_zh}"
    english = _title(client, headers, "/cases", "?lang=en")
    assert english.startswith("Cases · ")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english), english
    # A language the product does not have falls back to the configured one.
    assert _title(client, headers, "/wall", "?lang=xx") == f"指挥大屏 · {product_zh}"
