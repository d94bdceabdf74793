"""Docker does not run on our machines, so the compose file is checked as data."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV_NAMES = {"NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE", "KGREC_API_KEY"}


def test_compose_runs_neo4j_526_community_and_the_api_with_kgrec_variables():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    neo4j, api = compose["services"]["neo4j"], compose["services"]["api"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert {"7474:7474", "7687:7687"} <= {port.split(":", 1)[1] for port in map(_published, neo4j["ports"])}
    assert neo4j["environment"]["NEO4J_AUTH"].startswith("neo4j/${NEO4J_PASSWORD")
    assert any(v.endswith(":/data") for v in neo4j["volumes"])
    assert api["build"] == "."
    assert set(api["environment"]) == ENV_NAMES
    assert api["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"
    assert api["command"][:2] == ["kgrec", "serve"]
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"


def test_dockerfile_serves_the_same_command():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["kgrec", "serve"' in dockerfile
    assert "COPY kgrec ./kgrec" in dockerfile


def _published(port: str, env: dict[str, str] | None = None) -> str:
    """A compose port entry with its ``${VAR:-default}`` filled in as compose does."""
    env = env or {}
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), port)


def test_every_port_is_published_on_localhost_unless_a_bind_address_is_chosen():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    ports = [port for service in compose["services"].values() for port in service.get("ports", [])]
    assert ports
    for port in ports:
        assert _published(port).startswith("127.0.0.1:"), port
        assert _published(port, {"KGREC_BIND_ADDRESS": "0.0.0.0"}).startswith("0.0.0.0:"), port


def test_the_image_runs_as_an_unprivileged_user():
    lines = [line.split() for line in (ROOT / "Dockerfile").read_text().splitlines() if line and line[0] != "#"]
    users = [i for i, words in enumerate(lines) if words[0] == "USER"]
    assert users and lines[users[-1]][1] not in {"root", "0"}
    assert users[-1] < next(i for i, words in enumerate(lines) if words[0] == "CMD")
