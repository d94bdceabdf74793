"""Starting, stopping and inspecting the local Neo4j server process.

The server runs detached from the ``kgrec`` process. kgrec keeps its own pid file (Neo4j writes
and deletes ``run/neo4j.pid`` itself) and checks that the pid really is a Neo4j JVM before
trusting it, so ``status`` tells the truth after a crash or a reboot.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from kgrec.neo4j_server import class_archive
from kgrec.neo4j_server.configure import ensure_password, write_config
from kgrec.neo4j_server.errors import ServerError
from kgrec.neo4j_server.fetch import fetch_jars, jars_present
from kgrec.neo4j_server.layout import ServerLayout
from kgrec.neo4j_server.toolchain import Java, find_java
from kgrec.settings import Settings

SERVER_MAIN = "org.neo4j.server.CommunityEntryPoint"
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0
# The flags Neo4j's own launcher passes to the JVM.
JVM_FLAGS = [
    "-XX:+UseG1GC", "-XX:-OmitStackTraceInFastThrow", "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields", "-XX:+DisableExplicitGC", "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true", "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true", "-Dfile.encoding=UTF-8",
]


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    bolt_ready: bool
    stale_pid_file: bool = False


def _is_neo4j_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return SERVER_MAIN.encode() in cmdline


def _exited(pid: int) -> bool:
    """Whether the server ``pid`` has exited: gone, a zombie, or the pid reused by another
    program. An exiting process loses its command line before it closes its files (its ports,
    its store lock), so an empty command line is not yet an exit."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return True
    return state in ("Z", "X") or (bool(cmdline) and SERVER_MAIN.encode() not in cmdline)


def _read_pid(layout: ServerLayout) -> int | None:
    try:
        return int(layout.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def bolt_answers(port: int, timeout: float = 2.0) -> bool:
    """True when a Bolt handshake on ``port`` gets a version back (the server accepts work)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            # Magic preamble, then four proposed versions (5.x ranges, then 4.4).
            sock.sendall(bytes.fromhex("6060B017") + bytes.fromhex("00080805 00000404 00000000 00000000".replace(" ", "")))
            reply = sock.recv(4)
            return len(reply) == 4 and reply != b"\x00\x00\x00\x00"
    except OSError:
        return False


def status(layout: ServerLayout) -> ServerStatus:
    """Report whether the server of ``layout`` runs; a pid file left by a crash is removed."""
    pid = _read_pid(layout)
    if pid is None:
        return ServerStatus(False, None, False)
    if not _is_neo4j_process(pid):
        layout.pid_file.unlink(missing_ok=True)
        return ServerStatus(False, None, False, stale_pid_file=True)
    return ServerStatus(True, pid, bolt_answers(layout.bolt_port))


def _log_tail(layout: ServerLayout, lines: int = 25) -> str:
    try:
        return "\n".join(layout.log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(layout: ServerLayout, timeout: float = START_TIMEOUT_S, settings: Settings | None = None) -> ServerStatus:
    """Start the server unless it already runs, and wait until Bolt answers.

    ``settings`` give the heap, page cache and transaction timeout; without them, kgrec's
    defaults (not the environment: reading it is the command's job, once).

    Raises:
        ServerError: missing Java/Maven, a port in use, a failed download, or a server that died
            or did not answer in time (with the end of its log).
    """
    current = status(layout)
    if current.running:
        if not current.bolt_ready:
            _wait_for_bolt(layout, current.pid, timeout)
        return status(layout)
    for name, port in (("Bolt", layout.bolt_port), ("HTTP", layout.http_port)):
        if port_in_use(port):
            variable = "KGREC_BOLT_PORT" if name == "Bolt" else "KGREC_HTTP_PORT"
            raise ServerError(
                f"{name} port {port} is already in use by another program (another Neo4j?). "
                f"Stop it, or choose another port with {variable}=<port>."
            )
    settings = settings or Settings.model_construct()
    java = prepare(layout, settings)
    # The jars by their real folder and first, plugins after: homes that share the jars then
    # share one class archive (a start may only add to the end of the class path it recorded).
    class_path = [layout.lib_dir.resolve(), layout.server_home / "plugins"]
    cmd = [str(java.executable), *JVM_FLAGS, *class_archive.jvm_flags(layout, java, class_path),
           f"-Xms{settings.neo4j_heap_min}", f"-Xmx{settings.neo4j_heap}",
           "-cp", ":".join(f"{folder}/*" for folder in class_path), SERVER_MAIN,
           f"--home-dir={layout.server_home}", f"--config-dir={layout.conf_dir}"]
    layout.log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(layout.log_file, "ab") as log:
        env = {**os.environ, "NEO4J_HOME": str(layout.server_home), "NEO4J_CONF": str(layout.conf_dir)}
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True, cwd=layout.server_home)
    layout.pid_file.write_text(f"{proc.pid}\n")
    _wait_for_bolt(layout, proc.pid, timeout, proc)
    return status(layout)


def prepare(layout: ServerLayout, settings: Settings) -> Java:
    """Everything a start needs before the server runs: the home folder, the jars (fetched the
    first time), ``neo4j.conf`` and the generated password. A bulk import into a new home runs
    after this and before the server's first start, so the server starts only once.

    Returns the Java the server runs on.

    Raises:
        ServerError: missing Java/Maven or a failed download.
    """
    java = find_java(settings.java_home)
    layout.home.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.home, 0o700)
    if not jars_present(layout):
        fetch_jars(layout)
    write_config(layout, settings)
    ensure_password(layout, java)
    return java


def _wait_for_bolt(layout: ServerLayout, pid: int | None, timeout: float,
                   proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bolt_answers(layout.bolt_port, timeout=1.0):
            return
        exited = proc.poll() is not None if proc else (pid is None or not _is_neo4j_process(pid))
        if exited:
            layout.pid_file.unlink(missing_ok=True)
            raise ServerError(f"Neo4j exited during start-up; end of {layout.log_file}:\n{_log_tail(layout)}")
        time.sleep(0.5)
    raise ServerError(f"Neo4j did not answer on Bolt port {layout.bolt_port} within {timeout:.0f} s; "
                      f"end of {layout.log_file}:\n{_log_tail(layout)}")


def stop(layout: ServerLayout, timeout: float = STOP_TIMEOUT_S) -> bool:
    """Stop the server cleanly (SIGTERM, then SIGKILL after ``timeout``); False if it wasn't running."""
    current = status(layout)
    if not current.running or current.pid is None:
        return False
    os.kill(current.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not _exited(current.pid):
        time.sleep(0.1)
    clean = _exited(current.pid)
    if not clean:
        os.kill(current.pid, signal.SIGKILL)
        while not _exited(current.pid):
            time.sleep(0.1)
    layout.pid_file.unlink(missing_ok=True)
    class_archive.settle(layout, clean_stop=clean)
    return True
