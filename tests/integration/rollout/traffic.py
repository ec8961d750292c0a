"""A stand-in for a real traffic command (feature flag, load-balancer weight) in the rollout
tests: it records each traffic change, and at one stage switches a fault on in the reference
service, as a bad release taking more traffic would. `--rollback` records the rollback and
switches the faults off.

Environment: TRAFFIC_RECORD (file appended to), FAULT_AT (a percent), FAULT (the fault),
ADMIN_TOKEN, BLOCK_FILE (while it exists, the command fails), ECHO (printed, to test
redaction), TRAFFIC_SLEEP (seconds to take); the rollout sets RELEASEGATE_TARGET_URL,
RELEASEGATE_ROLLOUT_STAGE and RELEASEGATE_TRAFFIC_PERCENT.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx


def set_faults(faults: list[str]) -> None:
    response = httpx.post(
        os.environ["RELEASEGATE_TARGET_URL"] + "/_admin/faults",
        json={"faults": faults},
        headers={"Authorization": f"Bearer {os.environ['ADMIN_TOKEN']}"},
        timeout=5,
    )
    response.raise_for_status()


def main() -> int:
    print("traffic command, echo:", os.environ.get("ECHO", ""))
    record = Path(os.environ["TRAFFIC_RECORD"])
    if sys.argv[1:] == ["--rollback"]:
        set_faults([])
        with record.open("a") as handle:
            handle.write("rollback\n")
        return 0
    block = os.environ.get("BLOCK_FILE")
    if block and Path(block).exists():
        print(f"traffic API refused the change ({block} exists)")
        return 1
    if os.environ.get("TRAFFIC_SLEEP"):  # a slow traffic API, to be cut off mid-change
        sys.stdout.flush()
        time.sleep(float(os.environ["TRAFFIC_SLEEP"]))
    percent = os.environ["RELEASEGATE_TRAFFIC_PERCENT"]
    with record.open("a") as handle:
        handle.write(f"{os.environ['RELEASEGATE_ROLLOUT_STAGE']} {percent}\n")
    if percent == os.environ.get("FAULT_AT"):
        set_faults([os.environ["FAULT"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
