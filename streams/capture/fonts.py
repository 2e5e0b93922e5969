"""The font the capture service draws text with: one that has Chinese.

OpenCV's built-in faces ("sans", "uni") draw every Chinese character as "?", so camera names on
synthetic frames, tiles, the full-size view and video-check evidence would read "??? ????". The
face is loaded from a CJK font file of the system instead: Debian's ``fonts-noto-cjk`` (which
``make run`` and ``make test`` install), or another common CJK family. Without one, text falls back
to the built-in face and the capture service says so once, with the package to install.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

logger = logging.getLogger(__name__)

# Simplified Chinese first; each path is where its Debian package puts the file.
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # fonts-arphic-uming
)
FALLBACK_FACE = "uni"


@cache
def cjk_font() -> str:
    """The font to give ``cv2.FontFace``: a CJK font file if the system has one."""
    for name in CJK_FONT_FILES:
        if Path(name).is_file():
            return name
    logger.warning(
        "no Chinese font found (%s): camera names will show as '?'; install Debian's "
        "fonts-noto-cjk (`make run` does)",
        ", ".join(CJK_FONT_FILES[:1]),
    )
    return FALLBACK_FACE
