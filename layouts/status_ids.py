"""The status page's component ids (layouts/status.py, callbacks/status.py), in one place so the
layout and its callbacks cannot drift apart."""

STATUS_PAGE = "status-page"
CALENDAR_WARNING = "calendar-warning"
LANG_LINK = "lang-link"
