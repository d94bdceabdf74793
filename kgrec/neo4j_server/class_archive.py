"""A class data sharing archive of the server's classes (AppCDS, JEP 350), so starts load less.

Why: on this two-core machine a start spends most of its time loading, verifying and compiling
Neo4j's classes before the first query answers (measured in bench/RESULTS.md, "Bulk load options"); a JVM started
with an archive of those classes maps them instead. A start without an archive writes one
(``-XX:ArchiveClassesAtExit``) when the server stops; later starts use it
(``-XX:SharedArchiveFile``).

An archive fits one JVM build and one class path: its name carries both (the ``-version`` text
and every jar, with its size), and the JVM ignores one that does not fit, so a stale archive
only costs the speed-up; archives of other builds are left alone (another home may use them).
It lives beside the jars, so the homes that share them (the test suite's, the benchmarks')
share it too. It is written under a name of its own per home and kept only after a clean stop,
so a server killed while writing it leaves no half archive behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from kgrec.neo4j_server.layout import ServerLayout
from kgrec.neo4j_server.toolchain import Java

_PARTIAL = ".partial"


def jvm_flags(layout: ServerLayout, java: Java, class_path: Sequence[Path]) -> list[str]:
    """Use the archive of this JVM build and these class path folders (``folder/*`` each) if
    there is one, else write it when the server exits."""
    archive = _archive(layout, java, class_path)
    if archive.exists():
        return [f"-XX:SharedArchiveFile={archive}"]
    archive.parent.mkdir(parents=True, exist_ok=True)
    return [f"-XX:ArchiveClassesAtExit={_partial_prefix(archive.parent, layout)}{archive.name}"]


def settle(layout: ServerLayout, *, clean_stop: bool) -> None:
    """After the server of ``layout`` exited: keep the archive it wrote on a clean stop, drop
    one it may have left half-written otherwise."""
    folder = _folder(layout)
    prefix = _partial_prefix(folder, layout)
    for partial in folder.glob(f"{prefix.name}*") if folder.exists() else ():
        if clean_stop and partial.stat().st_size:
            partial.rename(folder / partial.name.removeprefix(prefix.name))
        else:
            partial.unlink(missing_ok=True)


def _folder(layout: ServerLayout) -> Path:
    return layout.lib_dir.resolve().parent / "class-archive"


def _archive(layout: ServerLayout, java: Java, class_path: Sequence[Path]) -> Path:
    """The archive's path, named after what it must match: the JVM build and every jar."""
    jars = [f"{jar.name}:{jar.stat().st_size}" for folder in class_path if folder.is_dir()
            for jar in sorted(folder.glob("*.jar"))]
    key = hashlib.sha256("\n".join([java.build, *jars]).encode()).hexdigest()[:16]
    return _folder(layout) / f"neo4j-{key}.jsa"


def _partial_prefix(folder: Path, layout: ServerLayout) -> Path:
    """Where the server of ``layout`` writes an archive until it is known to be whole."""
    home = hashlib.sha256(str(layout.home.resolve()).encode()).hexdigest()[:8]
    return folder / f"{_PARTIAL}-{home}-"
