"""The two-release store, built once per test session (see :mod:`tests.audit.releases`)."""

from __future__ import annotations

import pytest

from tests.audit.releases import Releases, build_releases


@pytest.fixture(scope="session")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    built = build_releases(tmp_path_factory.mktemp("releases"))
    assert built.v1.clips["ok"] == 4, built.v1.failures
    assert built.v2.clips["ok"] == 5, built.v2.failures
    return built
