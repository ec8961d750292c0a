"""A real Prometheus (the system's `prometheus` binary, e.g. Debian's package) on a free
loopback port, scraping the given targets every second, its data in a temporary folder: the
reference service's metrics source for the SLO gate (`[reference] prometheus = true`) and for
the tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import BinaryIO
from urllib.parse import urlsplit

import httpx

from releasegate.net import free_loopback_port

PROMETHEUS = shutil.which("prometheus")
# A Prometheus already scraping the reference service (`releasegate demo` starts one beside it
# before the deploy it watches, as a real one would be): the gate run reads it instead of
# starting its own, whose first scrape comes about 5 s after it starts (Prometheus 2.42
# passes new targets to its scrapers every 5 s)
REFERENCE_PROMETHEUS_VAR = "RELEASEGATE_REFERENCE_PROMETHEUS"


class PrometheusServer:
    def __init__(self, *targets: str, scrape_interval: str = "1s") -> None:
        self.targets = [urlsplit(t).netloc for t in targets]
        self.scrape_interval = scrape_interval
        self.port = free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = Path(tempfile.mkdtemp(prefix="releasegate-prometheus-"))
        self.process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    def start(self, timeout_s: float = 30.0) -> PrometheusServer:
        if PROMETHEUS is None:
            raise RuntimeError("no prometheus binary on PATH (apt-get install prometheus)")
        config = self.folder / "prometheus.yml"
        config.write_text(
            "global:\n"
            f"  scrape_interval: {self.scrape_interval}\n"
            f"  evaluation_interval: {self.scrape_interval}\n"
            "scrape_configs:\n"
            "  - job_name: target\n"
            "    static_configs:\n"
            f"      - targets: [{', '.join(repr(t) for t in self.targets)}]\n"
        )
        self._log = (self.folder / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Prometheus did not become ready within {timeout_s}s")

    def value(self, query: str) -> float | None:
        """The first value an instant query returns, None when it returns nothing."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": query}, timeout=5).json()
        result = answer.get("data", {}).get("result") or []
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, query: str, at_least: float, timeout_s: float = 60.0) -> float:
        """Poll until `query` reaches `at_least` (the scrapes have caught up)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.value(query)
            if value is not None and value >= at_least:
                return value
            time.sleep(0.25)
        raise TimeoutError(f"{query} did not reach {at_least} within {timeout_s}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
