import pytest
from test_server import *  # noqa
from test_store import *  # noqa

@pytest.fixture
def store_url(redis_url):
    return redis_url
