"""Hooks of the schema fuzz run (tests/schema/run.sh).

Two kinds of generated request would stop the run from testing anything more,
so they are steered just before they are sent; everything else goes out as
generated from the OpenAPI document.
"""

import os

import schemathesis

# The admin the run logs in as, and a user run.sh made to take its place.
ADMIN_ID = os.environ.get("HERALD_SCHEMA_ADMIN_ID", "1")
STANDIN_ID = os.environ["HERALD_SCHEMA_STANDIN_ID"]
# A long-poll may hold a request for 60 s, half the run's budget; every valid
# `wait` is lowered to this. What `wait` does is tested by the Rust suite
# (crates/server/tests/stream.rs).
LONG_POLL_CAP = 0
U32_MAX = 4294967295


@schemathesis.hook
def before_call(context, case, kwargs):
    operation = (case.operation.method.upper(), case.operation.path)
    if operation == ("PATCH", "/api/v1/users/{id}"):
        # A new password for the run's own admin would end its sessions for
        # good (the run could not log in again): the change goes to the
        # stand-in instead. The admin's rules about itself (no self-disable)
        # are tested by the Rust suite.
        if str(case.path_parameters.get("id")) == ADMIN_ID:
            case.path_parameters["id"] = int(STANDIN_ID)
    elif operation == ("DELETE", "/api/v1/rooms/{id}/members/{username}"):
        # The stateful phase links a new room's `owner` (the run's admin) into
        # this path: the admin would leave, and the room it just created would
        # be gone for the next step, which schemathesis then reports as a
        # created resource not found (ST302). The stand-in is removed instead;
        # leaving, by members and by owners, is tested by the Rust suite
        # (crates/server/tests/chat.rs, crates/store/tests/conformance/rooms.rs).
        if case.path_parameters.get("username") == "admin":
            case.path_parameters["username"] = "standin"
    elif operation == ("GET", "/api/v1/events") and isinstance(case.query, dict):
        wait = case.query.get("wait")
        # Only valid values: an invalid one must reach the server as it is.
        if isinstance(wait, int) and not isinstance(wait, bool) and LONG_POLL_CAP < wait <= U32_MAX:
            case.query["wait"] = LONG_POLL_CAP
