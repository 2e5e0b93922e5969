"""The simulator that makes the demo alive: patrols, case arrivals, and the people handling them.

Grid workers walk their grids and their phones send position fixes; cases arrive at the daily
rhythm of the seeded history (with a one-click emergency soon after the start and, now and
then, a burst of reports that turns a village red); the desk, the departments and the grid
workers take every case through the real state machine. Deterministic given a seed, driven by
the ``now`` it is given. Modules:

``world``    the grids, villages and workers it acts in (from the database or regenerated)
``patrol``   walking workers and their phones' fixes
``arrivals`` new cases: when and what (``bursts``: many about one thing in one village)
``handling`` each case's story after the report
``client``   the one interface to the system: ``inprocess`` (the app's services) or
             ``http_client`` (the public API)
``runner``   ``Simulator.step(now)``, the thread loop, ``burst(n)`` for the benchmarks
``launch``   starting it in the demo, or against a remote server (``run.py simulate``)
"""

from dashboard.simulator.client import (
    Act,
    CaseRef,
    Fix,
    Forbidden,
    OpenCase,
    Refused,
    Report,
    SimClient,
    Unavailable,
    VillageInfo,
)
from dashboard.simulator.http_client import HttpClient
from dashboard.simulator.inprocess import InProcessClient
from dashboard.simulator.runner import BurstResult, SimStats, Simulator, SimulatorThread
from dashboard.simulator.world import World, world_from_db, world_from_seed

__all__ = [
    "Act",
    "BurstResult",
    "CaseRef",
    "Fix",
    "Forbidden",
    "HttpClient",
    "InProcessClient",
    "OpenCase",
    "Refused",
    "Report",
    "SimClient",
    "SimStats",
    "Simulator",
    "SimulatorThread",
    "Unavailable",
    "VillageInfo",
    "World",
    "world_from_db",
    "world_from_seed",
]
