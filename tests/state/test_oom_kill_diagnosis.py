"""A kill shows in the diagnoses within one refresh: /proc/vmstat oom_kill is read every pass (issue 15)."""

from __future__ import annotations

from memtop.state.model import MemtopModel

from tests.dashboard_fixtures import at


def test_a_vmstat_kill_is_critical_at_once() -> None:
    model = MemtopModel()
    model.ingest(at(0.0, {"oom_kill": 7}))  # kills before memtop started are not news
    assert not any(d.id == "oom-kill" for d in model.diagnoses)
    done = model.ingest(at(1.0, {"oom_kill": 9}))
    found = next(d for d in done.diagnoses if d.id == "oom-kill")
    assert found.severity == "critical" and dict(found.numbers)["oom_kills"] == 2
    assert done.diagnoses[0].id == "oom-kill"
