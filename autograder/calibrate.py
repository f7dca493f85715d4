"""Grade the reference notebooks on many grading seeds: the worst margin of each stochastic check
is what the grader can promise, and every seed must give full marks."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from . import forkserver, runner
from .classroom import progress
from .course import Course
from .results import Results


@dataclass(frozen=True)
class Run:
    assignment: str
    seed: int
    results: Results


@dataclass(frozen=True)
class Margin:
    """The worst value a check measured over all seeds, against its limit."""

    assignment: str
    check: str
    what: str
    value: float
    limit: float
    higher_is_better: bool
    seed: int

    @property
    def slack(self) -> float:
        """How far inside its limit the worst seed stayed (negative: it crossed it)."""
        return self.value - self.limit if self.higher_is_better else self.limit - self.value


def calibrate(course: Course, assignments: list[str], seeds: list[int], jobs: int = 2) -> list[Run]:
    """Grade each assignment's source notebook once per seed, as a student's submission is graded."""
    runs = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context, initializer=forkserver.die_with_parent) as pool, progress() as bar:
        task = bar.add_task("calibrating", total=len(assignments) * len(seeds))
        futures = {pool.submit(runner.grade_in_worker, course.root, aid, course.assignment(aid).path("source"),
                               runner.Options(seed=seed, jobs=jobs)): (aid, seed)
                   for aid in assignments for seed in seeds}
        for future in as_completed(futures):
            aid, seed = futures[future]
            results = future.result()
            runs.append(Run(aid, seed, results))
            bar.update(task, advance=1, description=f"{aid} seed {seed}: {results.score:g}/{results.max_score:g}")
    return sorted(runs, key=lambda run: (run.assignment, run.seed))


def worst_margins(runs: list[Run]) -> list[Margin]:
    """For every measured quantity, the seed that came closest to its limit."""
    worst: dict[tuple[str, str, str], Margin] = {}
    for run in runs:
        for check, measured in run.results.margins.items():
            for what, m in measured.items():
                margin = Margin(run.assignment, check, what, m["value"], m["limit"], m["higher_is_better"], run.seed)
                key = (run.assignment, check, what)
                if key not in worst or margin.slack < worst[key].slack:
                    worst[key] = margin
    return [worst[key] for key in sorted(worst)]
