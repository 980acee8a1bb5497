"""What the layers answering before routing (service/api/fast_reads.py, fast_writes.py) answered
themselves, as their tests check it."""

from types import ModuleType
from typing import Any

import pytest

Answered = list[str]  # the record ids the fast path answered for (the rest went to the route)


def spy_on_answers(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> Answered:
    """Records the record ids `module.answer(state, path, record_id, ...)` answered for."""
    ids: Answered = []
    real = module.answer

    def spying(state: Any, path: Any, record_id: str, *args: Any) -> Any:
        response = real(state, path, record_id, *args)
        if response is not None:
            ids.append(record_id)
        return response

    monkeypatch.setattr(module, "answer", spying)
    return ids
