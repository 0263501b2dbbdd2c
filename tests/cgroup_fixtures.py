"""Hand-made memory cgroups over the dashboard's hand-made processes (known numbers)."""

from __future__ import annotations

from dataclasses import replace

from memtop.collectors.models import UNLIMITED, CgroupMemory, ContainerLimit, Limit, Snapshot

from tests.dashboard_fixtures import MIB, PROCESSES, made

#: Where each hand-made process lives (v2 paths).
WHERE = {
    1: "/init.scope",
    100: "/system.slice/sshd.service",
    200: "/user.slice/user-1000.slice/session-3.scope",
    201: "/user.slice/user-1000.slice/session-3.scope/train",
    202: "/user.slice/user-1000.slice/session-3.scope",
    300: "/system.slice/postgresql.service",
    301: "/system.slice/postgresql.service",
    302: "/system.slice/postgresql.service",
    400: "/system.slice/nginx.service",
}


def cg(path: str, current: int | None, limit: Limit = UNLIMITED, events: dict[str, int] | None = None,
       procs: tuple[int, ...] = (), effective: Limit = UNLIMITED) -> CgroupMemory:
    counts = {"low": 0, "high": 0, "max": 0, "oom": 0, "oom_kill": 0, "oom_group_kill": 0, **(events or {})}
    return CgroupMemory(
        path=path, version=2, current=current, max=limit, high=UNLIMITED, low=0, min=0, soft_limit=None,
        effective_max=effective, stat=(("anon", (current or 0) // 2), ("file", (current or 0) // 3), ("kernel", 4 * MIB)),
        events=tuple(counts.items()), pressure=None, procs=procs,
    )


def cgroups(oom_kills: int = 1) -> tuple[CgroupMemory, ...]:
    slice_limit = 512 * MIB
    return (
        CgroupMemory(path="/", version=2, current=None, max=None, high=None, low=None, min=None, soft_limit=None,
                     effective_max=None, stat=(), events=(), pressure=None, procs=()),
        cg("/init.scope", 8 * MIB, procs=(1,)),
        cg("/system.slice", 640 * MIB),
        cg("/system.slice/nginx.service", 20 * MIB, procs=(400,)),
        cg("/system.slice/postgresql.service", 600 * MIB, 1024 * MIB, procs=(300, 301, 302), effective=1024 * MIB),
        cg("/system.slice/sshd.service", 10 * MIB, procs=(100,)),
        cg("/user.slice", 500 * MIB),
        cg("/user.slice/user-1000.slice", 500 * MIB, slice_limit, {"max": 9, "oom": oom_kills, "oom_kill": oom_kills},
           effective=slice_limit),
        cg("/user.slice/user-1000.slice/session-3.scope", 490 * MIB, events={"max": 9, "oom": oom_kills, "oom_kill": oom_kills},
           procs=(200, 202), effective=slice_limit),
        cg("/user.slice/user-1000.slice/session-3.scope/train", 300 * MIB, procs=(201,), effective=slice_limit),
    )


def with_cgroups(oom_kills: int = 1, container: ContainerLimit | None = None) -> Snapshot:
    procs = tuple(replace(p, cgroup=WHERE[p.pid]) for p in PROCESSES)
    return replace(made(procs), cgroups=cgroups(oom_kills), cgroup_hierarchy="v2 at /sys/fs/cgroup", container=container)
