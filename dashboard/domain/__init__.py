"""The pure domain core.

Nothing in this package may import Flask, Dash, SQLAlchemy, Redis, OpenCV or any other framework
or I/O library (tests/unit/test_domain_purity.py enforces it). Rules take data and ``now`` as
arguments and return data; the adapters in ``dashboard.storage``, ``streams`` and the web layer
carry the results to the database, the bus and the screens.
"""
