"""Component ids of the department view (/department), shared by layouts/department.py and
callbacks/department.py (and the browser tests)."""

ROOT = "department"
NAV = "department-nav"  # dcc.Location: picking a department navigates to /department?dept=…
STORE = "department-store"  # {"lang", "dept"}: what the page shows
PICK = "department-pick"  # commander / admin: which department to view
MESSAGE = "department-message"
CASES = "department-cases"  # the table of open cases (re-rendered after a step)
SUMMARY = "department-summary"
ORDERS = "department-orders"  # the open supervision orders (re-rendered after a reply)
FORM = "department-form"  # the "report handled" form of one case
PENDING = "department-pending"  # dcc.Store {"case", "version"} of the open form
UPLOAD = "department-upload"
UPLOAD_NAME = "department-upload-name"
NOTE = "department-note"
SUBMIT = "department-submit"
CANCEL = "department-cancel"

# Pattern-matching ids: {"type": ACCEPT, "case": id, "version": v} / {"type": REPORT, ...} per
# case row, {"type": REPLY_TEXT, "order": id} and {"type": REPLY_SEND, "order": id} per order.
ACCEPT = "department-accept"
REPORT = "department-report"
REPLY_TEXT = "department-reply-text"
REPLY_SEND = "department-reply-send"

# Services on residents' behalf (代办, issue 18): the department's requests beside its cases.
SERVICES = "department-services"  # the table (re-rendered after a step)
SERVICE_MESSAGE = "department-service-message"
# {"type": SERVICE_STEP, "request": id, "step": accept|return|complete} per row's button,
# {"type": SERVICE_NOTE, "request": id}: what is missing, typed in the row before 退回补正.
SERVICE_STEP = "department-service-step"
SERVICE_NOTE = "department-service-note"
