"""Component ids, in one place so layouts and callbacks cannot drift apart."""

STATUS_PAGE = "status-page"
CALENDAR_WARNING = "calendar-warning"
LANG_LINK = "lang-link"
