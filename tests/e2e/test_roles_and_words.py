"""Each role signs in and lands on its own page; no page of the Chinese UI shows an English
message or a raw code.

One app (``python run.py`` without the simulator, automatic sign-in off) serves the whole module;
users of every role are created in its database before the browser signs in as each, through the
sign-in form, as a person would. The walk opens every page a role may open (and the 403 and 404
pages) and searches the text a person sees for the codes the software uses inside: case
statuses, roles, actions (``case.accept``), department codes, grid numbers, worker ids, and any
ASCII-only sentence (an untranslated error message).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from tests.e2e.conftest import RunningApp, start_app

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-password-long"
# (user, role, the page they land on)
PEOPLE = [
    ("zhang-admin", "admin", "/"),
    ("wang-commander", "commander", "/"),
    ("li-dispatcher", "dispatcher", "/cases"),
    ("zhao-supervisor", "supervisor", "/supervision"),
    ("qian-dept", "department", "/department"),
    ("sun-leader", "leader", "/trends"),
    ("zhou-wall", "wall", "/wall"),
    ("wu-grid", "grid_worker", "/m"),
]
NAMES = {
    "zhang-admin": "张管理",
    "wang-commander": "王值班",
    "li-dispatcher": "李受理",
    "zhao-supervisor": "赵督办",
    "qian-dept": "钱部门",
    "sun-leader": "孙领导",
    "zhou-wall": "周大屏",
    "wu-grid": "吴网格",
}
# Pages each role walks ({case}: a case of the seeded history that the department handles).
WALKS: dict[str, list[str]] = {
    "zhang-admin": [
        "/",
        "/wall",
        "/cases",
        "/cases?id=x",  # a bad filter: the message must be Chinese
        "/cases/{case}",
        "/department",
        "/supervision",
        "/admin/audit",
        "/field",
        "/video",
        "/no-such-page",
    ],
    "wang-commander": ["/admin/audit"],  # not allowed: a page in the frame, not JSON
    "qian-dept": ["/department", "/cases", "/cases/{case}", "/wall"],
    "wu-grid": ["/m", "/field", "/cases"],
    # A leader reads the cases behind the figures (read-only) and the evaluation pages.
    "sun-leader": [
        "/trends",
        "/trends/briefings",
        "/trends/rising",
        "/trends/campaigns",
        "/trends/rankings",
        "/cases",
        "/cases/{case}",
    ],
}
# Words a Chinese page may show in Latin letters: the language switch, units, file formats.
# The products behind the status page's health line are named by their names.
# A statistical method is named by its authors (the rising problems' Benjamini–Hochberg).
ALLOWED_ASCII = {
    "English",
    "CSV",
    "PNG",
    "km",
    "ID",
    "IP",
    "SQLite",
    "PostgreSQL",
    "Redis",
    "Benjamini",
    "Hochberg",
}
STATUS_CODES = [
    "reported",
    "accepted",
    "verifying",
    "registered",
    "dispatched",
    "handling",
    "returned",
    "suspended",
    "handled",
    "checking",
    "rework",
    "closed",
    "evaluated",
    "voided",
    "self_handled",
]
ROLE_CODES = [
    "admin",
    "commander",
    "dispatcher",
    "supervisor",
    "department",
    "leader",
    "grid_worker",
]


@dataclass
class Walk:
    app: RunningApp
    case: int
    departments: list[str]


def _prepare(app: RunningApp) -> tuple[int, list[str]]:
    """Users of every role, and a case of the history dispatched to the department user's
    department."""
    from dashboard.accounts import create_user
    from dashboard.config import load_config
    from dashboard.domain.roles import Role
    from dashboard.storage.models import Case
    from dashboard.wiring import build_services

    services = build_services(load_config(app.config))
    try:
        with services.db.read() as session:
            case = session.scalars(
                select(Case).where(Case.department_code.is_not(None)).order_by(Case.id.desc())
            ).first()
            assert case is not None and case.department_code
            case_id, department = case.id, case.department_code
        now = services.clock.now()
        with services.db.transaction() as session:
            for username, role, _page in PEOPLE:
                create_user(
                    session,
                    username,
                    Role(role),
                    PASSWORD,
                    now,
                    department_code=department if role == "department" else None,
                    display_name=NAMES[username],
                )
        return case_id, [d.code for d in services.reference.departments]
    finally:
        services.close()


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    app = start_app(
        tmp_path_factory.mktemp("roles"), "--no-simulator", extra_config='auto_login_user = ""\n'
    )
    try:
        case_id, departments = _prepare(app)
        yield Walk(app, case_id, departments)
    finally:
        app.stop()


def _sign_in(browser: Any, app: RunningApp, username: str) -> None:
    browser.delete_all_cookies()
    browser.get(app.url + "/login")
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "login-form")))
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    WebDriverWait(browser, 30).until(lambda d: "/login" not in d.current_url)


def _settled(browser: Any) -> bool:
    """A Dash page has replaced its placeholder and no callback is pending; a server page is
    simply loaded."""
    return bool(
        browser.execute_script(
            "const c = document.getElementById('_pages_content');"
            "if (c === null) return document.readyState === 'complete';"
            "return c.children.length > 0 && !c.querySelector('.page-placeholder')"
            " && !document.querySelector('._dash-loading')"
            " && !document.querySelector('[data-dash-is-loading=\"true\"]');"
        )
    )


def _open(browser: Any, url: str) -> str:
    browser.get(url)
    WebDriverWait(browser, 30).until(_settled)
    # The wall and the tables fill in from their own callbacks and sockets: give them the
    # moment they need to draw, by waiting until the text stops changing.
    previous = ""
    for _ in range(20):
        text = str(browser.execute_script("return document.body.innerText"))
        if text == previous and text.strip():
            return text
        previous = text
        browser.execute_script("return new Promise((r) => setTimeout(r, 400))")
    return previous


def _codes_in(text: str, departments: list[str]) -> list[str]:
    found: list[str] = []
    found += re.findall(r"\bcase\.[a-z_]+\b", text)
    found += re.findall(r"\bW\d{12}-\d{2}\b", text)  # worker ids
    found += re.findall(r"(?<!\d)\d{15}(?!\d)", text)  # grid numbers
    found += re.findall(r"(?<!\d)\d{12}(?!\d)", text)  # village codes
    found += re.findall(r"(?<![\d-])\d{5}(?![\d:-]|热线)", text)  # 小类 codes (not 12345热线)
    for word in re.findall(r"[A-Za-z][A-Za-z_]{2,}", text):
        if word in ALLOWED_ASCII:
            continue
        # A status, role or department code, or any other Latin word: untranslated.
        found.append(word)
    # An ASCII-only line of three or more words: an English message.
    found += [
        line
        for line in text.splitlines()
        if re.fullmatch(r"[ -~]+", line) and len(re.findall(r"[A-Za-z]{2,}", line)) >= 3
    ]
    return found


@pytest.mark.parametrize(("username", "role", "page"), PEOPLE)
def test_each_role_lands_on_its_own_page(
    walk: Walk, browser: Any, username: str, role: str, page: str
) -> None:
    _sign_in(browser, walk.app, username)
    landed = browser.current_url.removeprefix(walk.app.url).split("?")[0]
    assert landed == page, f"{role} landed on {landed}"
    WebDriverWait(browser, 30).until(_settled)
    assert browser.find_elements(By.ID, "access-notice") == []  # never a "not allowed"
    # A title of its own ("督查督办 · 网格化…"), set by Dash's router once the page is in.
    WebDriverWait(browser, 10).until(lambda b: " · " in b.title)


def test_no_page_shows_english_or_a_raw_code(walk: Walk, browser: Any) -> None:
    problems: dict[str, list[str]] = {}
    for username, paths in WALKS.items():
        _sign_in(browser, walk.app, username)
        for template in paths:
            path = template.format(case=walk.case)
            text = _open(browser, walk.app.url + path)
            assert text.strip(), path
            found = _codes_in(text, walk.departments)
            if found:
                problems[f"{username} {path}"] = sorted(set(found))
            if path == "/admin/audit" and username == "wang-commander":
                assert "403" in text and "无权访问" in text  # a page, not raw JSON
            if path == "/no-such-page":
                assert "页面不存在" in text
            if username == "sun-leader" and path.startswith("/cases"):
                assert "无权访问" not in text, path  # a page of the leader's now
            if username == "sun-leader" and path.startswith("/cases/"):
                assert "只读" in text and "办理操作" not in text
                assert browser.find_elements(By.CSS_SELECTOR, "[id*='case-ws-action']") == []
    assert not problems, "\n".join(f"{page}: {found}" for page, found in problems.items())


VISIBLE = """
const e = document.querySelector(arguments[0]);
if (!e) return null;
const r = e.getBoundingClientRect();
return r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
"""


def test_forms_open_where_the_user_looks(walk: Walk, browser: Any) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        _sign_in(browser, walk.app, "qian-dept")
        _open(browser, walk.app.url + "/department")
        buttons = browser.find_elements(By.CSS_SELECTOR, "button[id*='department-report']")
        assert buttons, "the department has a case to report handled"
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", buttons[-1])
        buttons[-1].click()
        WebDriverWait(browser, 10).until(
            lambda b: b.execute_script(VISIBLE, "#department-form .dv-form button")
        )
        # A note at its limit says so before it is saved (the browser cuts the rest).
        browser.execute_script(
            "const a = document.querySelector('#department-form textarea');"
            "a.value = 'x'.repeat(Number(a.getAttribute('maxlength')));"
            "a.dispatchEvent(new Event('input', {bubbles: true}));"
        )
        note = browser.find_element(By.CSS_SELECTOR, "#department-form .char-count.full")
        assert "上限" in note.text and "不会保存" in note.text

        _sign_in(browser, walk.app, "zhang-admin")
        _open(browser, walk.app.url + f"/cases/{walk.case}")
        action = browser.find_elements(
            By.CSS_SELECTOR, "button[id*='case-ws-action']:not([disabled])"
        )
        assert action, "the admin may take a step on the case"
        action[-1].click()
        WebDriverWait(browser, 10).until(lambda b: b.execute_script(VISIBLE, "#case-ws-submit"))

        # A drop-down list's own words (its search box) are Chinese too.
        _open(browser, walk.app.url + "/cases")
        browser.find_element(By.CSS_SELECTOR, ".dash-dropdown").click()
        search = WebDriverWait(browser, 10).until(
            lambda b: b.find_element(By.CSS_SELECTOR, "input[placeholder]:focus")
        )
        assert search.get_attribute("placeholder") == "搜索"
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
