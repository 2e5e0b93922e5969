"""Who is asking, and may they: the web adapter of dashboard.domain.permissions.

- ``web``: the request hook (principal from bearer token, session or kiosk cookie; deny by
  default; CSRF) and ``require(permission)`` for API views.
- ``pages``: ``/login``, ``/logout``, ``page_guard`` for Dash page layouts, ``guard_callback``.
- ``sessions``: sign-in, expiry, sign-out. ``throttle``: sign-in back-off.
- ``tokens``: bearer tokens.
- ``ratelimit``: per-token token buckets (in process, or shared through Redis).
- ``scoping``: area and department filters for queries, the live stream and cameras.
- ``audit``: the append-only audit log. ``headers``: CSP and the other security headers.
- ``redact``: secrets out of logs. ``sockets``: ``authenticate_socket`` for Socket.IO.
- ``setup``: wires all of it into the app (dashboard.app.create_app).
"""
