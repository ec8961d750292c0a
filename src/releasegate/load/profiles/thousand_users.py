"""The `thousand-users` load profile (releasegate.load.shapes).

Its numbers come from the environment file's [load] table, passed by the gate; by hand,
defaults apply: locust -f loadtests/reference.py,src/releasegate/load/profiles/thousand_users.py
--headless --host URL
"""

import dataclasses

from locust import LoadTestShape

from releasegate.load.params import LoadParams
from releasegate.load.shapes import Step, users_at


class ThousandUsersShape(LoadTestShape):
    params = dataclasses.replace(LoadParams.from_environ(), profile="thousand-users")

    def tick(self) -> Step:
        return users_at(self.params, self.get_run_time())
