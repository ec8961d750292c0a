# The releasegate plugin (options, markers, evidence) and the fixtures the suites share.
# A team that installs releasegate in its own repository loads it the same way.
pytest_plugins = ["releasegate.pytest_plugin", "fixtures.target", "fixtures.api_contract"]
