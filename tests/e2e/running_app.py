"""The app started for tests: kept in the tester kit, `imgstream.testing`."""

from imgstream.testing import ROOT, AppDidNotStart, RunningApp, free_port, running_app

__all__ = ["ROOT", "AppDidNotStart", "RunningApp", "free_port", "running_app"]
