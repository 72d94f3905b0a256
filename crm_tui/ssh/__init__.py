"""The SSH front door (`crm serve-ssh`): asyncssh in front, one app process per session.

Beside the app and the CLI, never inside the domain: `server` holds the asyncssh
connection and the middleware chain (auth → require a terminal → audit → limits → spawn),
`spawn` the child on its own pseudo-terminal, `session` the child's entry point that
redeems the gateway's one-time token, `hostkey` the host key kept 0600.
"""
