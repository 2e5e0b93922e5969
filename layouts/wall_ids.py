"""Element ids of the wall page, shared by the layout (Python) and the live script (wall.js).

wall.js looks the same ids up with ``document.getElementById``; keep both in step (the unit test
tests/unit/test_wall_layout.py checks that every id here appears in wall.js).
"""

WALL = "wall"
CLOCK = "wall-clock"
DATE = "wall-date"
CONNECTION = "wall-conn"
UPDATED = "wall-updated"
LANG = "wall-lang"
KPIS = "wall-kpis"
SOURCES = "wall-sources"
CATEGORIES = "wall-categories"
MAP = "wall-map"
MAP_NOTE = "wall-map-note"
RED_LIST = "wall-red-list"
TREND = "wall-trend"
FEED = "wall-feed"
DEPARTMENTS = "wall-departments"
ALARM = "wall-alarm"
ALARM_TEXT = "wall-alarm-text"
ALARM_NAME = "wall-alarm-name"
ALARM_ACK = "wall-alarm-ack"
ALARM_MSG = "wall-alarm-msg"
AUDIO = "wall-audio"
SOUND_HINT = "wall-sound-hint"
