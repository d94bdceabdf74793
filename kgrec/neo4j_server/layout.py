"""Where the local Neo4j server lives on disk and which ports it uses.

One folder (``KGREC_HOME``, default ``$XDG_DATA_HOME/kgrec`` or ``~/.local/share/kgrec``) holds
the Maven cache, the server jars for each version, the server's config, data and logs, and the
generated password. Ports default to Neo4j's own (Bolt 7687, HTTP 7474) and can be moved with
``KGREC_BOLT_PORT`` / ``KGREC_HTTP_PORT`` so that two homes can run side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

NEO4J_VERSION = "5.26.30"
BROWSER_VERSION = "5.24.0"
#: Bolt and HTTP ports of the local server when KGREC_BOLT_PORT / KGREC_HTTP_PORT are unset (Neo4j's own)
DEFAULT_BOLT_PORT = 7687
DEFAULT_HTTP_PORT = 7474


@dataclass(frozen=True)
class ServerLayout:
    """Paths and ports of one local server installation (the one of the settings:
    :attr:`kgrec.settings.Settings.layout`)."""

    home: Path
    version: str = NEO4J_VERSION
    bolt_port: int = DEFAULT_BOLT_PORT
    http_port: int = DEFAULT_HTTP_PORT

    def sibling(self, name: str, port_offset: int) -> "ServerLayout":
        """A second server beside this one (``home/name``, ports + ``port_offset``) that shares its
        downloaded jars: the test suite's and the benchmarks' own servers, never the user's data."""
        home = self.home / name
        home.mkdir(parents=True, exist_ok=True)
        (self.home / "dist").mkdir(parents=True, exist_ok=True)
        if not (home / "dist").exists():
            (home / "dist").symlink_to(self.home / "dist")
        return ServerLayout(home=home, version=self.version, bolt_port=self.bolt_port + port_offset,
                            http_port=self.http_port + port_offset)

    @property
    def maven_repo(self) -> Path:
        return self.home / "m2"

    @property
    def lib_dir(self) -> Path:
        """Jars of one server version; shared by every start, so only the first start downloads."""
        return self.home / "dist" / f"neo4j-{self.version}" / "lib"

    @property
    def server_home(self) -> Path:
        """The server's own home: conf, data, logs, run."""
        return self.home / "server"

    @property
    def conf_dir(self) -> Path:
        return self.server_home / "conf"

    @property
    def log_file(self) -> Path:
        return self.server_home / "logs" / "kgrec-neo4j.log"

    @property
    def pid_file(self) -> Path:
        # Neo4j writes and deletes run/neo4j.pid itself; ours must have another name.
        return self.server_home / "run" / "kgrec-neo4j.pid"

    @property
    def password_file(self) -> Path:
        return self.home / "neo4j-password"

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/browser/"
