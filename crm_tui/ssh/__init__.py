"""The SSH front door (`crm serve-ssh`): asyncssh in front, one app process per session.

Beside the app and the CLI, never inside the domain: `server` holds the asyncssh
connection and runs each session through the middleware chain (`middleware`: auth →
require a terminal → audit → limits; then `spawn`, the child on its own pseudo-terminal),
`ctx` the session's state on its way through, `session` the child's entry point that
redeems the gateway's one-time token, `app` the app as a session runs it, `forced` the
OpenSSH forced-command alternative, `hostkey` the host key kept 0600.
"""
