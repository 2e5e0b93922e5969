"""Component ids of the case list (/cases), shared by layouts/case_list.py and
callbacks/case_list.py (and the browser tests, which find elements by them)."""

ROOT = "case-list"
NAV = "case-list-nav"  # dcc.Location: a search navigates to /cases?<filters> (bookmarkable)
LANG = "case-list-lang"  # dcc.Store {"lang", "sort"}: kept by a new search
MESSAGE = "case-list-message"
# The search form
CASE_ID = "case-list-id"
TEXT = "case-list-text"
PLACE = "case-list-place"
CATEGORY = "case-list-category"
STATUS = "case-list-status"
TOWN = "case-list-town"
DEPARTMENT = "case-list-department"
LIGHT = "case-list-light"
OVERDUE = "case-list-overdue"
DATE_FROM = "case-list-from"
DATE_TO = "case-list-to"
SEARCH = "case-list-search"
RESET = "case-list-reset"
# Results
TOTAL = "case-list-total"
EXPORT = "case-list-export"
PER_PAGE = "case-list-per-page"
TABLE = "case-list-table"
PAGER = "case-list-pager"
PREV = "case-list-prev"
NEXT = "case-list-next"
# Sortable column headers are links with id f"{SORT_PREFIX}{key}" (key from SORT_KEYS).
SORT_PREFIX = "case-list-sort-"

# The text inputs whose Enter key searches, and every field in the form (parameter → id).
ENTER_FIELDS = (CASE_ID, TEXT, PLACE)
FIELDS = {
    "id": CASE_ID,
    "text": TEXT,
    "place": PLACE,
    "category": CATEGORY,
    "status": STATUS,
    "town": TOWN,
    "department": DEPARTMENT,
    "light": LIGHT,
    "overdue": OVERDUE,
    "from": DATE_FROM,
    "to": DATE_TO,
}
