"""The reference service on a real PostgreSQL server (a throwaway cluster, see pg_cluster.py)."""

from __future__ import annotations

import httpx

from releasegate.target.process import ReferenceServiceProcess
from tests.integration.pg_cluster import PostgresServer

pytest_plugins = ["tests.integration.pg_cluster"]

AUTH = {"Authorization": "Bearer local-demo-token"}


def test_the_api_works_on_postgresql(fresh_database: str) -> None:
    """A postgresql+psycopg URL: table created and seeded, CRUD through the API, health timed
    with a real SELECT 1."""
    with (
        ReferenceServiceProcess(database_url=fresh_database) as service,
        httpx.Client(base_url=service.base_url, headers=AUTH, timeout=10) as http,
    ):
        created = http.post("/api/tickets", json={"title": "on postgres"})
        ticket_id = created.json()["id"]
        changed = http.patch(f"/api/tickets/{ticket_id}", json={"status": "in_progress"})
        listed = http.get("/api/tickets").json()["tickets"]
        deleted = http.delete(f"/api/tickets/{ticket_id}")
        beyond = http.get("/api/tickets/99999999999")
        health = http.get("/api/health").json()

    assert created.status_code == 201
    assert changed.json()["status"] == "in_progress"
    assert [t["title"] for t in listed][3:] == ["on postgres"]  # after the three seeded
    assert deleted.status_code == 204
    assert beyond.status_code == 404
    assert health["services"]["database"]["status"] == "healthy"
    assert health["services"]["database"]["latency_ms"] > 0


def test_a_stopped_database_shows_as_down(
    postgres_cluster: PostgresServer, fresh_database: str
) -> None:
    """Health reports the database down (503) and the API answers 503 JSON while PostgreSQL
    refuses this database's connections, and recovers when it accepts them again."""
    import psycopg

    name = fresh_database.rsplit("/", 1)[1]
    admin_dsn = f"host=127.0.0.1 port={postgres_cluster.port} user={postgres_cluster.user}"

    def allow_connections(allowed: bool) -> None:
        with psycopg.connect(f"{admin_dsn} dbname=postgres", autocommit=True) as db:
            db.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
            if not allowed:
                db.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )

    with (
        ReferenceServiceProcess(database_url=fresh_database) as service,
        httpx.Client(base_url=service.base_url, headers=AUTH, timeout=10) as http,
    ):
        allow_connections(False)
        health_down = http.get("/api/health")
        tickets_down = http.get("/api/tickets")
        allow_connections(True)
        health_back = http.get("/api/health")

    assert health_down.status_code == 503
    assert health_down.json()["services"]["database"]["status"] == "down"
    assert tickets_down.status_code == 503
    assert tickets_down.json()["error"].startswith("database unavailable")
    assert health_back.json()["status"] == "healthy"
