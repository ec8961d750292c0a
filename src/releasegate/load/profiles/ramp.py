"""The `ramp` load profile (releasegate.load.shapes).

Its numbers come from the environment file's [load] table, passed by the gate; by hand,
defaults apply: locust -f loadtests/reference.py,src/releasegate/load/profiles/ramp.py
--headless --host URL
"""

import dataclasses

from locust import LoadTestShape

from releasegate.load.params import LoadParams
from releasegate.load.shapes import Step, users_at


class RampShape(LoadTestShape):
    params = dataclasses.replace(LoadParams.from_environ(), profile="ramp")

    def tick(self) -> Step:
        return users_at(self.params, self.get_run_time())
