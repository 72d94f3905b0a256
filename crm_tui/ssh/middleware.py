"""The middleware between a proven key and the app process, in the order they run:

    authenticate (the domain signs the key's owner in) → require a terminal → audit (the
    session row with its start and end events; the per-user cap is counted as the row is
    written) → limits (heartbeat, idle close) → spawn (`crm_tui.ssh.spawn`)
"""

from __future__ import annotations

import asyncio
import time

from crm_tui.domain.admin import preferences, ssh_keys, ssh_sessions
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.ssh.ctx import Ctx, Handler, Middleware


def authenticate(nxt: Handler) -> Handler:
    """The domain decides whether the key (already proven) opens the account right now."""

    async def run(ctx: Ctx) -> int:
        crm = ctx.gateway.crm
        try:
            ctx.actor = await asyncio.to_thread(ssh_keys.sign_in_by_key, crm, ctx.username,
                                                ctx.fingerprint, ctx.peer)
            ctx.lang = await asyncio.to_thread(preferences.language_of, crm, ctx.actor) or "zh_CN"
        except DomainError as exc:
            ctx.say(exc.key, **exc.params)
            return 1
        return await nxt(ctx)

    return run


def require_pty(nxt: Handler) -> Handler:
    async def run(ctx: Ctx) -> int:
        if not ctx.term:
            ctx.say("ssh.no_pty")
            return 1
        return await nxt(ctx)

    return run


def audit(nxt: Handler) -> Handler:
    """A session row with its start event; the end event with the duration, whatever happens.
    The per-user cap is counted inside the same transaction (see ssh_sessions.start_session)."""

    async def run(ctx: Ctx) -> int:
        assert ctx.actor is not None
        crm = ctx.gateway.crm
        try:
            opened = await asyncio.to_thread(ssh_sessions.start_session, crm, ctx.actor,
                                             ctx.fingerprint, ctx.peer, ctx.gateway.name)
        except DomainError as exc:
            ctx.say(exc.key, **exc.params)
            return 1
        ctx.session_id, ctx.token = opened.session_id, opened.token
        try:
            return await nxt(ctx)
        finally:
            await asyncio.shield(asyncio.to_thread(ssh_sessions.end_session, crm,
                                                   opened.session_id, ctx.end_reason))

    return run


def limits(nxt: Handler) -> Handler:
    """Keep the row alive (heartbeat) and close the session after the policy's idle time."""

    async def run(ctx: Ctx) -> int:
        assert ctx.session_id is not None
        gw = ctx.gateway
        idle_after = 0.0

        async def watch() -> None:
            nonlocal idle_after
            while not ctx.closed.is_set():
                # re-read each tick: a policy change reaches running sessions
                idle_after = gw.idle_seconds or gw.crm.policy().ssh.idle_close_minutes * 60.0
                await asyncio.sleep(min(5.0, max(0.05, idle_after / 4)))
                if time.monotonic() - ctx.last_input >= idle_after:
                    ctx.end_reason = "idle"
                    ctx.closed.set()

        gw.live.add(ctx.session_id)
        watcher = asyncio.create_task(watch())
        try:
            return await nxt(ctx)
        finally:
            watcher.cancel()
            gw.live.discard(ctx.session_id)
            if ctx.end_reason == "idle":
                ctx.say("ssh.idle_closed", minutes=max(1, round(idle_after / 60)))

    return run


CHAIN: tuple[Middleware, ...] = (authenticate, require_pty, audit, limits)
