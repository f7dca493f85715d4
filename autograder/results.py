"""One result model for a graded submission, shaped like Gradescope's results.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class
    name: str
    score: float
    max_score: float
    status: str  # "passed" or "failed"
    output: str
    exercise: str  # course.Exercise.id
    extra_data: dict = field(default_factory=dict)

    @property
    def skipped(self) -> str | None:
        return self.extra_data.get("skipped")

    @property
    def cause(self) -> int | None:
        return self.extra_data.get("cause")

    @classmethod
    def from_check(cls, record: dict) -> TestResult:
        """A hidden check's record (checks.CheckResult, with `cause` added by diagnose) as a test result."""
        extra = {"skipped": record["message"]} if record["status"] == "skipped" else \
            {"cause": record["cause"]} if "cause" in record else {}
        return cls(record["name"], record["score"], record["points"], record["status"], record["message"],
                   record["exercise"], extra)


@dataclass(frozen=True)
class GpuSkipPolicy:
    """What a check earns when it was skipped because the grading machine has no GPU.

    The student cannot help the machine, so by default it earns its points; a course may withhold
    them instead (`c.Autograder.gpu_skip_withholds`, `--gpu-skip-withholds`).
    """

    earns: bool = True

    def apply(self, test: TestResult) -> TestResult:
        """A skipped check as passed or failed by this policy, saying so; any other check as it is."""
        if test.status != "skipped":
            return test
        output = f"not checked: {test.output}" + (" (full points by course policy)" if self.earns else "")
        return replace(test, score=test.max_score if self.earns else 0.0, status="passed" if self.earns else "failed",
                       output=output)


@dataclass
class Results:
    """Everything a grading run found out about one submission."""

    assignment: str
    tests: list[TestResult]
    execution_time: float
    output: str = ""  # one human line on how the notebook ran, for the student
    execution: dict = field(default_factory=dict)  # cells run, errors, peak memory: for the instructor
    margins: dict = field(default_factory=dict)  # check name -> what it measured against its limit: for calibration
    causes: list[str] = field(default_factory=list)  # what to fix first; a test's extra_data["cause"] indexes it

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 2)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 2)

    def by_exercise(self) -> dict[str, list[TestResult]]:
        """The tests grouped by exercise (course.Exercise.id), in the notebook's order."""
        groups: dict[str, list[TestResult]] = {}
        for test in self.tests:
            groups.setdefault(test.exercise, []).append(test)
        return groups

    def subtotals(self) -> dict[str, tuple[float, float]]:
        """(score, max score) per exercise: what goes into the gradebook under its grade cell."""
        return {gid: (round(sum(t.score for t in tests), 2), round(sum(t.max_score for t in tests), 2))
                for gid, tests in self.by_exercise().items()}

    def to_gradescope(self) -> dict:
        tests = []
        for test in self.tests:
            entry = {k: v for k, v in asdict(test).items() if k != "exercise"}
            entry["output_format"] = "text"
            entry["tags"] = [test.exercise]
            entry["visibility"] = "visible"
            if not entry["extra_data"]:
                del entry["extra_data"]
            tests.append(entry)
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 2),
            "output": self.output,
            "output_format": "text",
            "visibility": "visible",
            "extra_data": {"execution": self.execution, "causes": self.causes},
            "tests": tests,
        }

    @classmethod
    def from_gradescope(cls, data: dict, assignment: str) -> Results:
        """A Results back from the results.json that to_gradescope wrote."""
        tests = [TestResult(t["name"], t["score"], t["max_score"], t["status"], t["output"], t["tags"][0],
                            t.get("extra_data", {})) for t in data["tests"]]
        extra = data.get("extra_data", {})
        return cls(assignment, tests, data["execution_time"], data.get("output", ""), extra.get("execution", {}),
                   causes=extra.get("causes", []))
