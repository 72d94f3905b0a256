"""The suite's five-trial version of `make soak` (SIGKILL in import, approvals, rotation)."""

from __future__ import annotations

from pathlib import Path

from bench import soak


def test_five_sigkill_trials_leave_a_sound_store(tmp_path: Path) -> None:
    result = soak.run(5, seed=11, base=tmp_path)
    assert result.trials == 5
    assert result.failures == []
    assert result.decided > 0  # the approval trials decide something before they are killed
