"""Component ids of the case workspace (/cases/<id>), shared by layouts/case_*.py, callbacks/
case_workspace.py and assets/case.js (which looks MAP up by id)."""

ROOT = "case-ws"
STORE = "case-ws-store"  # {"id", "version", "lang"}: what the page showed
MESSAGE = "case-ws-message"
# The parts an action re-renders (callbacks/case_workspace.py)
HEAD = "case-ws-head"
DETAILS = "case-ws-details"
ACTIONS = "case-ws-actions"
PHOTOS = "case-ws-photos"
TIMELINE = "case-ws-timeline"
FORM = "case-ws-form"
# Static: the map (drawn by case.js from its data-map JSON) and the cameras
MAP = "case-ws-map"
CAMERAS = "case-ws-cameras"
NOT_FOUND = "case-not-found"
# Inside the form of one action
PENDING = "case-ws-pending"  # the action the open form is for
SUBMIT = "case-ws-submit"
CANCEL = "case-ws-cancel"

# Pattern-matching id types: {"type": ACTION_BUTTON, "action": <Action value>}, a form field
# {"type": FIELD, "name": <note|reason|department|category|deadline|satisfaction|report_rating>},
# the photo {"type": UPLOAD, "name": "photo"} and its chosen file name {"type": UPLOAD_NAME, ...}.
ACTION_BUTTON = "case-ws-action"
FIELD = "case-ws-field"
UPLOAD = "case-ws-upload"
UPLOAD_NAME = "case-ws-upload-name"
