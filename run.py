"""Start the command center: ``python run.py`` runs the embedded demo on http://127.0.0.1:8050.

``python run.py --help`` lists the other commands (serve, db upgrade, seed, check-config, token,
user). The work happens in dashboard.cli; this file stays a launcher.
"""

import sys

from dashboard.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
