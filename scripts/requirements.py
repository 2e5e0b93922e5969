"""Print the project's Python requirements from pyproject.toml, one a line, for `pip install -r`.

`make run` and `make test` install the dependencies only: the code runs from this folder
(`python run.py`, `python -m pytest`), so nothing is built or installed from it, and setuptools
has nothing to warn about. Usage: python scripts/requirements.py [EXTRA ...]
"""

import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())[
    "project"
]
requirements = list(project["dependencies"])
for extra in sys.argv[1:]:
    requirements += project["optional-dependencies"][extra]
print("\n".join(requirements))
