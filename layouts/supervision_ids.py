"""Element ids of the supervisors' page (``/supervision``), shared by the layout, the callbacks
and assets/supervision.js (the unit test checks that the ids the script uses are defined here).

The alarm banner is the wall's own (layouts.wall_feed.alarm_banner, ids in layouts.wall_ids).
"""

PAGE = "sup-page"
CONFIG = "sup-config"  # data-config: labels and names for the live script
CONNECTION = "sup-conn"
LANG = "sup-lang"  # store: the page's language, for the callbacks

# Live refresh: supervision.js bumps these stores (dash_clientside.set_props) on deltas.
LIVE_CASES = "sup-live-cases"
LIVE_ORDERS = "sup-live-orders"
LIVE_CALLS = "sup-live-calls"

# Each table is one container drawn by supervision.js from its data store (JSON rows).
CASES_DATA = "sup-cases-data"
ORDERS_DATA = "sup-orders-data"
CALLS_DATA = "sup-calls-data"
HISTORY_DATA = "sup-history-data"
# The clientside drawing callbacks' outputs (never set: Dash wants an output per callback).
DRAWN_CASES = "sup-drawn-cases"
DRAWN_ORDERS = "sup-drawn-orders"
DRAWN_CALLS = "sup-drawn-calls"
DRAWN_HISTORY = "sup-drawn-history"

# (1) overdue and soon-due cases
CASES = "sup-cases"
CASES_SUMMARY = "sup-cases-summary"
FILTER_TOWN = "sup-filter-town"
FILTER_DEPARTMENT = "sup-filter-department"
FILTER_CATEGORY = "sup-filter-category"
FILTER_LIGHT = "sup-filter-light"
FILTER_WINDOW = "sup-filter-window"
SORT = "sup-sort"  # store: {"key", "desc"}, set by the script when a header is clicked

# (2) supervision orders
ORDERS = "sup-orders"
ORDER_CLOSE = "sup-order-close"  # store: {"order": id, "n": clicks}, set by the script
ORDER_MSG = "sup-order-msg"

# (3) the call list
CALLS = "sup-calls"
CALL_SELECTED = "sup-call-selected"  # store: the entry id the forms act on (set by the script)
CALL_FORM = "sup-call-form"
CALL_TARGET = "sup-call-target"
CALL_OUTCOME = "sup-call-outcome"
CALL_NOTE = "sup-call-note"
CALL_SUBMIT = "sup-call-submit"
SNOOZE_UNTIL = "sup-snooze-until"
SNOOZE_REASON = "sup-snooze-reason"
SNOOZE_SUBMIT = "sup-snooze-submit"
CALL_MSG = "sup-call-msg"
HISTORY = "sup-history"

# one-click emergency (一键上报)
EMERGENCY_OPEN = "sup-emergency-open"
EMERGENCY_FORM = "sup-emergency-form"
EMERGENCY_KIND = "sup-emergency-kind"
EMERGENCY_VILLAGE = "sup-emergency-village"
EMERGENCY_TEXT = "sup-emergency-text"
EMERGENCY_SUBMIT = "sup-emergency-submit"
EMERGENCY_CANCEL = "sup-emergency-cancel"
EMERGENCY_MSG = "sup-emergency-msg"
