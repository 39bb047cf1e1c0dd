"""The moto harness of test_state_machine_moto.py (Lambda routed in-process, Retry waits
recorded, the stages' environment), shared with the sync batch machine's tests."""

from tests.integration.statemachine.test_state_machine_moto import (  # noqa: F401 - fixtures
    router,
    stage_environment,
    waits,
)
