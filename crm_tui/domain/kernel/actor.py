"""Who is acting. Every domain call takes an Actor explicitly."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    id: int | None
    username: str
    display_name: str
    role: str
    branch_id: int | None = None
    team_id: int | None = None
    team_visibility: bool = False
    # The staff row's session epoch at sign-in; None for actors that are not a signed-in
    # session (the CLI operator, jobs, tests building an Actor by hand).
    session_epoch: int | None = None

    @property
    def label(self) -> str:
        return self.username


# The operator at the machine running `crm` admin commands: the admin role, no PII.
def system_actor(name: str = "cli") -> Actor:
    import getpass

    try:
        who = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        who = "unknown"
    return Actor(id=None, username=f"{name}:{who}", display_name=f"{name}:{who}", role="admin")
