"""The kernel every area stands on: the actor, the `Crm` handle, typed errors, permissions and
record scope, the audit chain, input validation and masking. It imports no other area."""
