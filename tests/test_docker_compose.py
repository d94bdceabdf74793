"""Docker does not run on our machines, so the compose file is checked as data."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV_NAMES = {"NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE", "KGREC_API_KEY"}


def test_compose_runs_neo4j_526_community_and_the_api_with_kgrec_variables():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    neo4j, api = compose["services"]["neo4j"], compose["services"]["api"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert {"7474:7474", "7687:7687"} <= set(neo4j["ports"])
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
