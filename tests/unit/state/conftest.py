import pytest

from tests.unit.state.signing import CannotSign


@pytest.fixture
def cannot_sign(storage):
    """The test's store, unable to sign any URL."""
    return CannotSign(storage)
