"""Fetching the Neo4j server and Neo4j Browser jars from Maven Central, once per version."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from importlib import resources

from kgrec.neo4j_server.errors import ServerError
from kgrec.neo4j_server.layout import BROWSER_VERSION, ServerLayout
from kgrec.neo4j_server.toolchain import find_maven

#: The very first resolution on a new machine was once seen to take 13 minutes.
FETCH_TIMEOUT_S = 30 * 60


def jars_present(layout: ServerLayout) -> bool:
    return layout.lib_dir.is_dir() and any(layout.lib_dir.glob("neo4j-kernel-*.jar"))


def fetch_jars(layout: ServerLayout) -> float:
    """Resolve the runtime classpath into ``layout.lib_dir``; return the seconds it took.

    Jars land in a temporary folder that is renamed at the end, so an interrupted download never
    leaves a half-filled ``lib`` that a later start would trust.
    """
    mvn = find_maven()
    staging = layout.lib_dir.with_name(layout.lib_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    pom = resources.files("kgrec.neo4j_server") / "pom.xml"
    # --strict-checksums: a jar whose checksum does not match is an error, not a warning (the
    # default), since these jars run a server holding the user's data; no -q, so the reason of
    # a failure is in the output we show.
    cmd = [
        str(mvn), "-B", "--strict-checksums", "--no-transfer-progress", "-f", str(pom),
        f"-Dmaven.repo.local={layout.maven_repo}",
        f"-Dneo4j.version={layout.version}", f"-Dbrowser.version={BROWSER_VERSION}",
        "dependency:copy-dependencies", f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
    ]
    print(f"Fetching Neo4j {layout.version} and Neo4j Browser {BROWSER_VERSION} from Maven Central "
          f"(~140 MB, first time only; cached in {layout.maven_repo}) ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=FETCH_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ServerError(f"fetching the Neo4j jars took over {FETCH_TIMEOUT_S // 60} min; check the "
                          "connection to Maven Central and run `kgrec neo4j start` again") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()
        errors = [line for line in output if line.startswith("[ERROR]") and line.strip() != "[ERROR]"]
        tail = "\n".join(errors[:15] or output[-15:])
        raise ServerError(
            f"downloading Neo4j {layout.version} from Maven Central failed (mvn exit {done.returncode}). "
            "The reason is below. A checksum failure means a file arrived corrupted or altered: check the "
            "proxy or mirror in ~/.m2/settings.xml before retrying. Otherwise check network access to Maven "
            f"Central and retry.\n{tail}"
        )
    if layout.lib_dir.exists():
        shutil.rmtree(layout.lib_dir)
    staging.rename(layout.lib_dir)
    return time.monotonic() - started
