"""Pure analysis of snapshots and histories: the gap, growth, diagnoses, working-set fit, cgroup usage."""
