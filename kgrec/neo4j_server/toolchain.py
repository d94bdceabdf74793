"""Finding the Java and Maven the local server needs, with errors that say how to get them."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kgrec.neo4j_server.errors import ServerError

MIN_JAVA = 17
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


@dataclass(frozen=True)
class Java:
    """``major`` is the feature release (17, 21, ...); ``build`` the whole ``-version`` text,
    which names the exact build (a class archive only fits the build that wrote it)."""

    executable: Path
    major: int
    build: str = ""


def find_java(java_home: str | None) -> Java:
    """Return the Java to run Neo4j with: ``java_home/bin/java`` (the ``JAVA_HOME`` of
    :class:`~kgrec.settings.Settings`) if set, else ``java`` on PATH.

    Raises:
        ServerError: no Java, or one older than 17 (Neo4j 5.26 needs 17+).
    """
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    if candidate is None or not candidate.is_file():
        found = shutil.which("java")
        candidate = Path(found) if found else None
    if candidate is None:
        raise ServerError(
            "Java was not found (no $JAVA_HOME/bin/java, no `java` on PATH). Neo4j 5.26 needs "
            "Java 17 or newer: install it (e.g. `apt-get install openjdk-17-jre-headless`) "
            "or set JAVA_HOME, or use docker-compose instead."
        )
    try:
        out = subprocess.run([str(candidate), "-version"], capture_output=True, text=True, timeout=30)
    except OSError as exc:
        raise ServerError(f"could not run {candidate}: {exc}. Check JAVA_HOME / PATH.") from exc
    match = _VERSION.search(out.stderr + out.stdout)
    if not match:
        raise ServerError(f"could not read the Java version from `{candidate} -version`: {out.stderr.strip()!r}")
    major = int(match.group(1))
    if major == 1:  # "1.8.0" style
        major = int(match.group(2) or 0)
    if major < MIN_JAVA:
        raise ServerError(
            f"{candidate} is Java {major}; Neo4j 5.26 needs Java {MIN_JAVA} or newer. "
            "Install a newer JDK and point JAVA_HOME at it."
        )
    return Java(candidate, major, (out.stderr + out.stdout).strip())


def find_maven() -> Path:
    """Return the ``mvn`` executable used to fetch the server jars from Maven Central."""
    found = shutil.which("mvn")
    if not found:
        raise ServerError(
            "Maven (`mvn`) was not found on PATH; kgrec fetches the Neo4j server jars from Maven "
            "Central with it. Install it (e.g. `apt-get install maven`) or use docker-compose."
        )
    return Path(found)
