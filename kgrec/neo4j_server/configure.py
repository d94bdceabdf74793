"""Writing the local server's ``neo4j.conf`` and its generated initial password."""

from __future__ import annotations

import os
import secrets
import string

from kgrec.neo4j_server.admin import run_admin
from kgrec.neo4j_server.errors import ServerError
from kgrec.neo4j_server.layout import ServerLayout
from kgrec.neo4j_server.toolchain import Java
from kgrec.settings import Settings


def _server_config(layout: ServerLayout, settings: Settings) -> dict[str, str]:
    """Neo4j 5.26 settings for a small machine. 5.26 validates strictly: unknown keys fail."""
    return {
        "server.default_listen_address": "127.0.0.1",
        "server.default_advertised_address": "127.0.0.1",
        "server.bolt.enabled": "true",
        "server.bolt.listen_address": f"127.0.0.1:{layout.bolt_port}",
        "server.bolt.advertised_address": f"127.0.0.1:{layout.bolt_port}",
        "server.bolt.tls_level": "DISABLED",
        "server.http.enabled": "true",
        "server.http.listen_address": f"127.0.0.1:{layout.http_port}",
        "server.http.advertised_address": f"127.0.0.1:{layout.http_port}",
        "server.https.enabled": "false",
        "server.memory.pagecache.size": settings.neo4j_pagecache,
        "dbms.security.auth_enabled": "true",
        # No query runs for ever, even one whose client gave up (the API sets shorter limits
        # per query); generous, because a write-back's awaitIndexes and batched cleanup of a
        # large graph are single long transactions.
        "db.transaction.timeout": settings.neo4j_tx_timeout,
        "dbms.usage_report.enabled": "false",
        # Without these each database preallocates 256 MB of transaction logs.
        "db.tx_log.rotation.size": "64m",
        "db.tx_log.preallocate": "false",
        # The default keeps two days of transaction logs: a 1M-interaction write-back writes
        # gigabytes, and fifteen of them left 33 GB on disk. Keep 256 MB (pruned at checkpoints,
        # which we take every 5 minutes instead of 15); a local server has no backups to feed.
        "db.tx_log.rotation.retention_policy": "256M size",
        "db.checkpoint.interval.time": "5m",
        # At shutdown the databases are checkpointed and closed first; only then does the Bolt
        # server stop its network threads, which by default wait a quiet period of 5 s for new
        # work that cannot come. Every stop (and a bulk import's restart) paid it.
        "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0",
        "server.directories.data": str(layout.server_home / "data"),
        "server.directories.logs": str(layout.server_home / "logs"),
        "server.directories.run": str(layout.server_home / "run"),
        "server.directories.plugins": str(layout.server_home / "plugins"),
        "server.directories.import": str(layout.server_home / "import"),
        "server.directories.lib": str(layout.lib_dir),
    }


def write_config(layout: ServerLayout, settings: Settings) -> None:
    """(Re)write ``conf/neo4j.conf`` with ``settings``' page cache and transaction timeout; done
    at every start so port and memory changes take effect."""
    for sub in ("conf", "data", "logs", "run", "plugins", "import"):
        (layout.server_home / sub).mkdir(parents=True, exist_ok=True)
    lines = ["# Written by kgrec at every `kgrec neo4j start`; edits here are overwritten."]
    lines += [f"{key}={value}" for key, value in _server_config(layout, settings).items()]
    (layout.conf_dir / "neo4j.conf").write_text("\n".join(lines) + "\n")


def _auth_initialised(layout: ServerLayout) -> bool:
    return (layout.server_home / "data" / "dbms" / "auth.ini").exists()


#: letters and digits only: a password the admin tool, a shell or a config file cannot misread
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def new_password() -> str:
    """24 random letters and digits (over 140 bits). ``secrets.token_urlsafe`` was used before: one
    password in 64 began with ``-`` and the admin tool took it for an option."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(24))


def ensure_password(layout: ServerLayout, java: Java) -> None:
    """Give a new server a generated password, kept in a file only the owner can read.

    Uses Neo4j's own admin tool before the first start, so the default ``neo4j/neo4j`` login never
    exists on this server.
    """
    if _auth_initialised(layout):
        if not layout.password_file.exists():
            raise ServerError(
                f"the local server at {layout.server_home} already has a password but "
                f"{layout.password_file} is missing. Set NEO4J_PASSWORD, or delete "
                f"{layout.server_home / 'data'} to start over with a new, empty database."
            )
        return
    password = new_password()
    fd = os.open(layout.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    os.chmod(layout.password_file, 0o600)
    # Never on the command line, where `ps` shows it to every user of the machine: the admin
    # tool (picocli) reads its arguments from an "@file", written only the owner can read it.
    # "--" ends the options, so whatever the password begins with, it is the password.
    arguments = layout.home / "set-initial-password.args"
    fd = os.open(arguments, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("--\n" + password + "\n")
    try:
        done = run_admin(layout, ["dbms", "set-initial-password", f"@{arguments}"], java=java)
    finally:
        arguments.unlink(missing_ok=True)
    if done.returncode != 0:
        layout.password_file.unlink(missing_ok=True)
        raise ServerError(f"setting the initial Neo4j password failed:\n{done.stdout}{done.stderr}")
