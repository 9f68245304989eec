"""pytester runs the plugin's tests (tests/plugin/): inner pytest runs in a temporary directory."""

pytest_plugins = ["pytester"]
