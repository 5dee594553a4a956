"""What every bench script needs: Django with the project's settings, a free loopback port, peak memory."""

import os
import resource
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def django_setup() -> None:
    """Django with credtrack.settings (unless DJANGO_SETTINGS_MODULE names others).

    Set the environment the settings read (DEBUG, SECRET_KEY, ...) before calling it, and import models after.
    """
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credtrack.settings")
    import django

    django.setup()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
