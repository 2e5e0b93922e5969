"""Open311 answers as JSON or XML (by the path's suffix), and its own error format.

XML follows the GeoReport v2 examples: a root element, one child element per item, lists inside
their plural element (``<endpoints><endpoint>…``, ``<formats><format>…``, ``<attributes>
<attribute>…``, ``<values><value>…``); an empty value is an empty element, booleans are
``true``/``false``. Only written, never parsed (the door takes form-encoded bodies).
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")

# Plural element → the element of each of its items.
_ITEM_TAGS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(parent, key), item)
    elif isinstance(value, list):
        tag = _ITEM_TAGS.get(parent.tag, "item")
        for item in value:
            _fill(ET.SubElement(parent, tag), item)
    else:
        parent.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    text: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return text


def answer(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """``value`` (a list of items, or one object) in the format asked for; ``root`` names the
    XML root (``services``, ``service_requests``, ``discovery`` …)."""
    if fmt == "xml":
        return Response(to_xml(root, value), status=status, content_type=XML_TYPE)
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, content_type=JSON_TYPE)


def error_answer(fmt: str, status: int, description: str) -> Response:
    """The spec's errors: ``[{"code": 400, "description": "…"}]`` / ``<errors><error>…``."""
    return answer(fmt, "errors", [{"code": status, "description": description}], status)
