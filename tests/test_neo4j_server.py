"""The local server: lifecycle against the real Neo4j, and the errors a user can hit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import free_port as _free_port

from kgrec.neo4j_server import class_archive, configure, lifecycle
from kgrec.neo4j_server.layout import ServerLayout
from kgrec.neo4j_server.toolchain import Java

KGREC = [sys.executable, "-m", "kgrec.cli"]


def _run_kgrec(args: list[str], layout: ServerLayout, path: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "JAVA_HOME"))}
    env.update(KGREC_HOME=str(layout.home), KGREC_BOLT_PORT=str(layout.bolt_port),
               KGREC_HTTP_PORT=str(layout.http_port), PATH=path, **extra_env)
    return subprocess.run(KGREC + args, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.neo4j
def test_write_and_read_nodes_and_relationships(clean_db, neo4j_database):
    clean_db.execute_query(
        "CREATE (:User {id: $u})-[:INTERACTED {weight: 1.0}]->(:Item {id: $i, title: $t})",
        u="u1", i="i1", t="Alien", database_=neo4j_database)
    records, _, _ = clean_db.execute_query(
        "MATCH (u:User)-[r:INTERACTED]->(i:Item) RETURN u.id AS u, r.weight AS w, i.title AS t",
        database_=neo4j_database)
    assert [(r["u"], r["w"], r["t"]) for r in records] == [("u1", 1.0, "Alien")]


@pytest.mark.neo4j
def test_clean_db_starts_empty(clean_db, neo4j_database):
    records, _, _ = clean_db.execute_query("MATCH (n) RETURN count(n) AS n", database_=neo4j_database)
    assert records[0]["n"] == 0


@pytest.mark.neo4j
def test_session_server_serves_browser_and_second_start_changes_nothing(neo4j_layout):
    if neo4j_layout is None:
        pytest.skip("suite runs against an external server")
    import urllib.request

    with urllib.request.urlopen(neo4j_layout.browser_url, timeout=10) as response:
        assert response.status == 200
        assert b"<html" in response.read(4096).lower()
    first = lifecycle.status(neo4j_layout)
    again = lifecycle.start(neo4j_layout)
    assert again.pid == first.pid and again.bolt_ready


@pytest.mark.neo4j
def test_lifecycle_start_twice_crash_restart_stop(side_layout):
    """Second start is a no-op; status is truthful after a crash; stop frees both ports."""
    path = os.environ["PATH"]
    first = _run_kgrec(["neo4j", "start"], side_layout, path)
    assert first.returncode == 0, first.stderr
    assert side_layout.bolt_uri in first.stdout and str(side_layout.password_file) in first.stdout
    assert oct(side_layout.password_file.stat().st_mode & 0o777) == "0o600"
    pid = lifecycle.status(side_layout).pid
    second = _run_kgrec(["neo4j", "start"], side_layout, path)
    assert second.returncode == 0 and "already running" in second.stdout
    assert lifecycle.status(side_layout).pid == pid

    os.kill(pid, signal.SIGKILL)  # a crash: the pid file stays behind
    while lifecycle._is_neo4j_process(pid):
        pass
    crashed = _run_kgrec(["neo4j", "status"], side_layout, path)
    assert crashed.returncode == 3 and "stale pid file" in crashed.stderr

    try:
        assert _run_kgrec(["neo4j", "start"], side_layout, path).returncode == 0
        assert lifecycle.status(side_layout).bolt_ready
    finally:
        stopped = _run_kgrec(["neo4j", "stop"], side_layout, path)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not lifecycle.port_in_use(side_layout.bolt_port)
    assert not lifecycle.port_in_use(side_layout.http_port)
    assert _run_kgrec(["neo4j", "status"], side_layout, path).returncode == 3


def _bin_with(tmp_path: Path, **scripts: str) -> str:
    """A PATH holding only the given fake or linked executables."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in scripts.items():
        target = bin_dir / name
        if body.startswith("/"):
            target.symlink_to(body)
        else:
            target.write_text("#!/bin/sh\n" + body)
            target.chmod(0o755)
    return str(bin_dir)


def _real(tool: str) -> str:
    import shutil

    found = shutil.which(tool)
    if not found:
        pytest.skip(f"{tool} not installed")
    return os.path.realpath(found)


def test_missing_java_is_a_clear_error(tmp_path):
    layout = ServerLayout(home=tmp_path / "h", bolt_port=_free_port(), http_port=_free_port())
    done = _run_kgrec(["neo4j", "start"], layout, _bin_with(tmp_path), JAVA_HOME=str(tmp_path / "nojava"))
    assert done.returncode == 2
    assert "Java was not found" in done.stderr and "Traceback" not in done.stderr


def test_old_java_is_a_clear_error(tmp_path):
    path = _bin_with(tmp_path, java='echo \'openjdk version "11.0.22" 2024-01-16\' >&2\n')
    layout = ServerLayout(home=tmp_path / "h", bolt_port=_free_port(), http_port=_free_port())
    done = _run_kgrec(["neo4j", "start"], layout, path)
    assert done.returncode == 2
    assert "Java 11" in done.stderr and "needs Java 17" in done.stderr


def test_missing_maven_is_a_clear_error(tmp_path):
    path = _bin_with(tmp_path, java=_real("java"))
    layout = ServerLayout(home=tmp_path / "h", bolt_port=_free_port(), http_port=_free_port())
    done = _run_kgrec(["neo4j", "start"], layout, path)
    assert done.returncode == 2 and "Maven (`mvn`) was not found" in done.stderr


def test_failed_download_is_a_clear_error_and_leaves_no_partial_jars(tmp_path):
    path = _bin_with(tmp_path, java=_real("java"),
                     mvn='echo "[ERROR] Could not resolve dependencies: Connection refused"; exit 1\n')
    layout = ServerLayout(home=tmp_path / "h", bolt_port=_free_port(), http_port=_free_port())
    done = _run_kgrec(["neo4j", "start"], layout, path)
    assert done.returncode == 2
    assert "from Maven Central failed" in done.stderr and "Connection refused" in done.stderr
    assert not layout.lib_dir.exists()


def test_port_in_use_is_a_clear_error(tmp_path):
    path = _bin_with(tmp_path, java=_real("java"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        layout = ServerLayout(home=tmp_path / "h", bolt_port=busy.getsockname()[1], http_port=_free_port())
        done = _run_kgrec(["neo4j", "start"], layout, path)
    assert done.returncode == 2
    assert f"Bolt port {layout.bolt_port} is already in use" in done.stderr
    assert "KGREC_BOLT_PORT" in done.stderr


@pytest.mark.neo4j
def test_password_never_on_a_command_line_and_the_server_ends_overlong_transactions(side_layout, tmp_path):
    """Every command kgrec runs is recorded (a `java` that logs its arguments, then runs the
    real one): the generated password is in none of them (`ps` would show it), yet the server
    accepts it; and the server's own transaction timeout ends a transaction left open."""
    calls = tmp_path / "java-calls"
    path = _bin_with(tmp_path, java=f'printf "%s\\n" "$*" >> {calls}\nexec {_real("java")} "$@"\n')
    started = _run_kgrec(["neo4j", "start"], side_layout, path, KGREC_NEO4J_TX_TIMEOUT="2s")
    assert started.returncode == 0, started.stderr
    password = side_layout.password_file.read_text().strip()
    recorded = calls.read_text()
    assert "set-initial-password" in recorded and "CommunityEntryPoint" in recorded
    assert password not in recorded
    assert not list(side_layout.home.glob("*.args")), "the argument file must not outlive the call"

    import neo4j

    with neo4j.GraphDatabase.driver(side_layout.bolt_uri, auth=("neo4j", password)) as driver:
        with driver.session() as session:
            tx = session.begin_transaction()
            deadline = time.monotonic() + 60
            with pytest.raises(neo4j.exceptions.ClientError, match="TransactionTimedOut"):
                while time.monotonic() < deadline:  # the server checks timeouts every few seconds
                    tx.run("RETURN 1").consume()
                    time.sleep(0.5)


@pytest.mark.neo4j
def test_a_password_beginning_with_a_dash_is_set_and_accepted(side_layout, monkeypatch):
    """One generated password in 64 used to begin with "-": the admin tool read it as an option
    and the first start failed. The real admin tool and server, given such a password."""
    import neo4j

    monkeypatch.setattr(configure, "new_password", lambda: "-Abc123xyz")
    lifecycle.start(side_layout)
    assert side_layout.password_file.read_text().strip() == "-Abc123xyz"
    with neo4j.GraphDatabase.driver(side_layout.bolt_uri, auth=("neo4j", "-Abc123xyz")) as driver:
        records, _, _ = driver.execute_query("RETURN 1 AS one")
    assert records[0]["one"] == 1


def test_generated_passwords_are_letters_and_digits():
    passwords = {configure.new_password() for _ in range(2000)}
    assert len(passwords) == 2000
    assert all(len(p) == 24 and p.isascii() and p.isalnum() for p in passwords)


MIRROR_SETTINGS = """<settings><mirrors><mirror><id>test-mirror</id><mirrorOf>*</mirrorOf>
<url>http://127.0.0.1:{port}/</url></mirror></mirrors></settings>"""


@pytest.mark.neo4j
def test_a_checksum_mismatch_fails_the_fetch_and_says_why(neo4j_layout, tmp_path):
    """The real Maven fetches through a mirror (this suite's own Maven cache, served over HTTP)
    that serves a wrong checksum for the server's pom: the fetch must stop, and say so."""
    if neo4j_layout is None:
        pytest.skip("needs kgrec's local server (the suite runs against NEO4J_URI)")
    repo = next((p for p in (neo4j_layout.maven_repo, neo4j_layout.home.parent / "m2")
                 if (p / "org" / "neo4j" / "neo4j" / neo4j_layout.version).is_dir()), None)
    if repo is None:
        pytest.skip("no Maven cache of the server jars here to serve as a mirror")
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    tampered = f"/org/neo4j/neo4j/{neo4j_layout.version}/neo4j-{neo4j_layout.version}.pom.sha1"

    class Mirror(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(repo), **kwargs)

        def do_GET(self):
            if self.path != tampered:
                return super().do_GET()
            body = b"0" * 40
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    mirror = ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
    threading.Thread(target=mirror.serve_forever, daemon=True).start()
    user_home = tmp_path / "user"
    (user_home / ".m2").mkdir(parents=True)
    (user_home / ".m2" / "settings.xml").write_text(MIRROR_SETTINGS.format(port=mirror.server_address[1]))
    layout = ServerLayout(home=tmp_path / "h", bolt_port=_free_port(), http_port=_free_port())
    try:
        done = _run_kgrec(["neo4j", "start"], layout, os.environ["PATH"], MAVEN_OPTS=f"-Duser.home={user_home}")
    finally:
        mirror.shutdown()
        lifecycle.stop(layout)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "kgrec: error: downloading Neo4j" in done.stderr and "Checksum validation failed" in done.stderr
    assert not layout.lib_dir.exists()


def test_class_archive_is_written_at_a_clean_stop_then_used_and_a_killed_write_is_dropped(tmp_path):
    layout = ServerLayout(home=tmp_path / "h", bolt_port=_free_port(), http_port=_free_port())
    layout.lib_dir.mkdir(parents=True)
    (layout.lib_dir / "neo4j.jar").write_bytes(b"jar")
    java = Java(Path("java"), 17, 'openjdk version "17.0.15"')
    (write,) = class_archive.jvm_flags(layout, java, [layout.lib_dir])
    assert write.startswith("-XX:ArchiveClassesAtExit=")
    partial = Path(write.split("=", 1)[1])
    partial.write_bytes(b"half")  # the server was killed while writing it
    class_archive.settle(layout, clean_stop=False)
    assert not partial.exists()
    assert class_archive.jvm_flags(layout, java, [layout.lib_dir]) == [write]
    partial.write_bytes(b"archive")  # written at a clean exit
    class_archive.settle(layout, clean_stop=True)
    (use,) = class_archive.jvm_flags(layout, java, [layout.lib_dir])
    assert use.startswith("-XX:SharedArchiveFile=") and Path(use.split("=", 1)[1]).read_bytes() == b"archive"
    other_build = Java(Path("java"), 17, 'openjdk version "17.0.16"')
    assert class_archive.jvm_flags(layout, other_build, [layout.lib_dir])[0].startswith("-XX:ArchiveClassesAtExit=")
