"""The rollout engine with scripted actions: promotion, rollback, hold, resume after a cut."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from releasegate.ops.rollout.engine import (
    Actions,
    CommandRecord,
    GateRecord,
    Rollout,
    RolloutState,
    SoakRecord,
    find_rollouts,
    new_state,
    read_state,
    state_saver,
    worst,
)
from releasegate.ops.rollout.plan import PlanStage, RolloutPlan, load_plan
from releasegate.outcome import Verdict
from releasegate.redact import Redactor

PLAN = """
rollback = ["./rollback.sh"]
on_hold = "{on_hold}"
baseline = {baseline}
[[stages]]
name = "internal"
traffic = "flag set internal"
soak = "1s"
[[stages]]
name = "10%"
percent = 10
traffic = "flag set 10"
[[stages]]
name = "50%"
percent = 50
traffic = "flag set 50"
[[stages]]
name = "100%"
percent = 100
traffic = "flag set 100"
soak = "0s"
"""


def make_plan(tmp_path: Path, on_hold: str = "wait", baseline: str = "false") -> RolloutPlan:
    path = tmp_path / "rollout.toml"
    path.write_text(PLAN.format(on_hold=on_hold, baseline=baseline))
    return load_plan(path)


@dataclass
class Script:
    """Scripted outcomes: gate verdicts per stage (one per attempt, GO when run out), which
    traffic commands fail or are cut off, and a record of every call."""

    gates: dict[str, list[Verdict]] = field(default_factory=dict)
    soaks: dict[str, list[Verdict]] = field(default_factory=dict)
    traffic_fails: set[str] = field(default_factory=set)
    cut_off_in: set[tuple[str, str]] = field(default_factory=set)  # (step, stage)
    rollback_exit: int = 0
    baseline_ok: bool = True
    calls: list[str] = field(default_factory=list)

    def _cut(self, step: str, stage: str) -> None:
        if (step, stage) in self.cut_off_in:
            self.cut_off_in.discard((step, stage))
            raise KeyboardInterrupt

    def actions(self) -> Actions:
        def traffic(index: int, stage: PlanStage) -> CommandRecord:
            self.calls.append(f"traffic {stage.name}")
            self._cut("traffic", stage.name)
            code = 1 if stage.name in self.traffic_fails else 0
            return CommandRecord(command=f"flag {stage.name}", exit_code=code)

        def soak(index: int, stage: PlanStage, attempt: int) -> SoakRecord | None:
            if stage.soak <= 0:
                return None
            self.calls.append(f"soak {stage.name}")
            self._cut("soak", stage.name)
            verdicts = self.soaks.get(stage.name, [])
            verdict = verdicts.pop(0) if verdicts else "GO"
            return SoakRecord(verdict=verdict, message=f"soak {verdict}")

        def gates(index: int, stage: PlanStage, attempt: int) -> GateRecord:
            self.calls.append(f"gates {stage.name} #{attempt}")
            self._cut("gates", stage.name)
            verdicts = self.gates.get(stage.name, [])
            verdict = verdicts.pop(0) if verdicts else "GO"
            return GateRecord(
                run_id=f"run-{index}-{attempt}",
                gates=["smoke"],
                verdict=verdict,
                exit_code=0,
                message=f"gates {verdict}",
            )

        def rollback() -> CommandRecord:
            self.calls.append("rollback")
            return CommandRecord(command="./rollback.sh", exit_code=self.rollback_exit)

        def baseline() -> tuple[str | None, str]:
            self.calls.append("baseline")
            return ("baseline.json", "taken") if self.baseline_ok else (None, "no answer")

        return Actions(
            traffic=traffic, soak=soak, gates=gates, rollback=rollback, baseline=baseline
        )


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "rollouts" / "r1" / "state.json"


def engine(plan: RolloutPlan, script: Script, state_file: Path) -> Rollout:
    """A rollout resumed from the state file when there is one (as the CLI does)."""
    if state_file.exists():
        state = read_state(state_file)
    else:
        state = new_state(
            "r1",
            plan,
            environment="prod",
            env_file=Path("environments/prod.toml"),
            base_url="https://example.invalid",
            release_version="1.2.3",
            suites=Path("suites"),
        )
    return Rollout(state, plan, script.actions(), state_saver(state_file, Redactor.of(set())))


def statuses(state: RolloutState) -> list[str]:
    return [s.status for s in state.stages]


def test_every_stage_promoted_completes_in_order(tmp_path: Path, state_file: Path) -> None:
    """All GO: traffic, soak (when the stage has one) and gates per stage, in plan order."""
    script = Script()

    status = engine(make_plan(tmp_path), script, state_file).run()

    assert status == "completed"
    assert script.calls == [
        "traffic internal", "soak internal", "gates internal #1",
        "traffic 10%", "soak 10%", "gates 10% #1",
        "traffic 50%", "soak 50%", "gates 50% #1",
        "traffic 100%", "gates 100% #1",
    ]  # fmt: skip


def test_rollback_at_a_stage_runs_the_rollback_once_and_stops(
    tmp_path: Path, state_file: Path
) -> None:
    """ROLLBACK at 50 %: stages 1-2 promoted, 3 rolled back, 4 never touched."""
    script = Script(gates={"50%": ["ROLLBACK"]})
    rollout = engine(make_plan(tmp_path), script, state_file)

    status = rollout.run()

    assert status == "rolled_back"
    assert statuses(read_state(state_file)) == ["promoted", "promoted", "rolled_back", "pending"]
    assert script.calls.count("rollback") == 1
    assert not any("100%" in call for call in script.calls)


def test_downtime_while_soaking_rolls_back_without_running_the_gates(
    tmp_path: Path, state_file: Path
) -> None:
    """A soak that saw downtime rolls back at once: no gate can undo that."""
    script = Script(soaks={"10%": ["ROLLBACK"]})

    status = engine(make_plan(tmp_path), script, state_file).run()

    assert status == "rolled_back"
    assert "gates 10% #1" not in script.calls


def test_a_finished_rollout_does_nothing_when_resumed(tmp_path: Path, state_file: Path) -> None:
    """Resuming a rolled-back rollout runs nothing, the rollback included."""
    plan = make_plan(tmp_path)
    engine(plan, Script(gates={"50%": ["ROLLBACK"]}), state_file).run()
    again = Script()

    status = engine(plan, again, state_file).run()

    assert (status, again.calls) == ("rolled_back", [])


def test_hold_stops_and_resume_gates_the_same_stage_again(tmp_path: Path, state_file: Path) -> None:
    """HOLD at 10 %: held there; resume soaks and gates 10 % again (no traffic change) and
    goes on to the end."""
    plan = make_plan(tmp_path)
    first = Script(gates={"10%": ["HOLD"]})
    held = engine(plan, first, state_file).run()
    second = Script()

    resumed = engine(plan, second, state_file).run()

    assert held == "held"
    assert resumed == "completed"
    assert second.calls[:2] == ["soak 10%", "gates 10% #2"]
    assert "traffic 10%" not in second.calls


def test_hold_is_recorded_with_its_reason(tmp_path: Path, state_file: Path) -> None:
    """The held stage and the rollout say why."""
    engine(make_plan(tmp_path), Script(gates={"10%": ["HOLD"]}), state_file).run()

    state = read_state(state_file)

    assert (state.status, state.stages[1].status, state.stages[1].verdict) == (
        "held",
        "held",
        Verdict.HOLD,
    )
    assert "gates HOLD" in state.reason


def test_hold_rolls_back_when_the_plan_says_so(tmp_path: Path, state_file: Path) -> None:
    """on_hold = "rollback": a HOLD is a rollback."""
    script = Script(gates={"10%": ["HOLD"]})

    status = engine(make_plan(tmp_path, on_hold="rollback"), script, state_file).run()

    assert status == "rolled_back"
    assert script.calls.count("rollback") == 1


def test_abort_of_a_held_rollout_rolls_back(tmp_path: Path, state_file: Path) -> None:
    """abort: the rollback command runs and the rollout is aborted for good."""
    plan = make_plan(tmp_path)
    engine(plan, Script(gates={"10%": ["HOLD"]}), state_file).run()
    script = Script()

    status = engine(plan, script, state_file).abort()

    assert status == "aborted"
    assert script.calls == ["rollback"]
    assert engine(plan, Script(), state_file).run() == "aborted"


def test_abort_without_rollback_runs_nothing(tmp_path: Path, state_file: Path) -> None:
    plan = make_plan(tmp_path)
    engine(plan, Script(gates={"10%": ["HOLD"]}), state_file).run()
    script = Script()

    status = engine(plan, script, state_file).abort(roll_back=False)

    assert (status, script.calls) == ("aborted", [])


def test_failed_traffic_command_holds_and_is_not_rerun_without_retry(
    tmp_path: Path, state_file: Path
) -> None:
    """A traffic command that failed leaves the split unknown: held; resume without
    --retry-traffic stays held and runs nothing."""
    plan = make_plan(tmp_path)
    engine(plan, Script(traffic_fails={"10%"}), state_file).run()
    again = Script()

    status = engine(plan, again, state_file).run()

    assert status == "held"
    assert again.calls == []
    assert "--retry-traffic" in read_state(state_file).reason


def test_retry_traffic_runs_the_command_again_and_goes_on(tmp_path: Path, state_file: Path) -> None:
    plan = make_plan(tmp_path)
    engine(plan, Script(traffic_fails={"10%"}), state_file).run()
    again = Script()

    status = engine(plan, again, state_file).run(retry_traffic=True)

    assert status == "completed"
    assert again.calls[0] == "traffic 10%"
    assert "traffic internal" not in again.calls


@pytest.mark.parametrize(
    ("step", "first_call_on_resume"),
    [("soak", "soak 10%"), ("gates", "soak 10%")],
    ids=["cut-while-soaking", "cut-while-gating"],
)
def test_cut_off_after_the_traffic_change_resumes_without_repeating_it(
    tmp_path: Path, state_file: Path, step: str, first_call_on_resume: str
) -> None:
    """Ctrl-C while soaking or gating: saved as interrupted; resume soaks and gates the same
    stage again, never repeating its traffic change or an earlier stage."""
    plan = make_plan(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        engine(plan, Script(cut_off_in={(step, "10%")}), state_file).run()
    saved = read_state(state_file)
    again = Script()

    status = engine(plan, again, state_file).run()

    assert (saved.status, saved.current) == ("interrupted", 1)
    assert status == "completed"
    assert again.calls[0] == first_call_on_resume
    assert not any(call.startswith(("traffic internal", "traffic 10%")) for call in again.calls)


def test_cut_off_during_the_traffic_command_holds_on_resume(
    tmp_path: Path, state_file: Path
) -> None:
    """Ctrl-C during the traffic command: resume holds (the split is unknown) until
    --retry-traffic."""
    plan = make_plan(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        engine(plan, Script(cut_off_in={("traffic", "50%")}), state_file).run()
    again = Script()

    status = engine(plan, again, state_file).run()

    assert status == "held"
    assert again.calls == []
    assert "was cut off" in read_state(state_file).reason


def test_a_failed_rollback_is_run_again_by_resume(tmp_path: Path, state_file: Path) -> None:
    """A rollback command that failed is loud, and `resume` runs it again, nothing else."""
    plan = make_plan(tmp_path)
    first = engine(plan, Script(gates={"internal": ["ROLLBACK"]}, rollback_exit=1), state_file)
    failed = first.run()
    again = Script()

    status = engine(plan, again, state_file).run()

    assert failed == "rollback_failed"
    assert (status, again.calls) == ("rolled_back", ["rollback"])


def test_baseline_is_taken_once_before_the_first_stage(tmp_path: Path, state_file: Path) -> None:
    script = Script()

    engine(make_plan(tmp_path, baseline="true"), script, state_file).run()

    assert script.calls[0] == "baseline"
    assert script.calls.count("baseline") == 1


def test_no_baseline_holds_before_any_traffic_changes(tmp_path: Path, state_file: Path) -> None:
    """Missing evidence is never a GO: without the baseline nothing moves."""
    script = Script(baseline_ok=False)

    status = engine(make_plan(tmp_path, baseline="true"), script, state_file).run()

    assert (status, script.calls) == ("held", ["baseline"])


def test_state_is_written_before_each_step(tmp_path: Path, state_file: Path) -> None:
    """When a gate runs, the state on disk already says the stage is being gated."""
    seen: list[str] = []
    script = Script()
    actions = script.actions()

    def gates(index: int, stage: PlanStage, attempt: int) -> GateRecord:
        seen.append(read_state(state_file).stages[index].status)
        return actions.gates(index, stage, attempt)

    rollout = engine(make_plan(tmp_path), script, state_file)
    rollout.actions = Actions(
        traffic=actions.traffic,
        soak=actions.soak,
        gates=gates,
        rollback=actions.rollback,
        baseline=actions.baseline,
    )
    rollout.run()

    assert seen == ["gates"] * 4


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ((Verdict.GO, Verdict.GO), Verdict.GO),
        ((Verdict.GO, Verdict.HOLD), Verdict.HOLD),
        ((Verdict.HOLD, Verdict.ROLLBACK), Verdict.ROLLBACK),
    ],
    ids=["go", "hold-beats-go", "rollback-beats-hold"],
)
def test_worst_verdict(verdicts: tuple[Verdict, ...], expected: Verdict) -> None:
    assert worst(*verdicts) == expected


def test_find_rollouts_lists_newest_first_and_skips_unreadable(
    tmp_path: Path, state_file: Path
) -> None:
    engine(make_plan(tmp_path), Script(), state_file).run()
    (tmp_path / "rollouts" / "broken").mkdir()
    (tmp_path / "rollouts" / "broken" / "state.json").write_text("{")

    found = list(find_rollouts(tmp_path))

    assert [state.id for _, state in found] == ["r1"]


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    return tmp_path / "plan.toml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('rollback = "x"\nstages = []', "stages"),
        ('[[stages]]\nname = "a"\ntraffic = "x"', "rollback"),
        (
            'rollback = "x"\n[[stages]]\nname = "a"\ntraffic = "x"\ngates = ["smokey"]',
            "stages[0].gates[0] must be one of",
        ),
        ('rollback = "x"\n[[stages]]\nname = "a"\ntraffic = "x"\nsoak = "soon"', "soak"),
        ('rollback = "x"\n[[stages]]\nname = "a"\ntraffic = ""', "traffic must be a non-empty"),
        (
            'rollback = "x"\n[[stages]]\nname = "a"\ntraffic = "x"\n'
            '[[stages]]\nname = "a"\ntraffic = "y"',
            "repeated: ['a']",
        ),
        ('rollback = "x"\n[[stages]]\nname = "a"\ntraffic = "x"\ntrafic = 1', "did you mean"),
        ('rollback = "x"\non_hold = "later"\n[[stages]]\nname = "a"\ntraffic = "x"', "on_hold"),
        ("rollback = [", "TOML syntax error"),
    ],
    ids=[
        "no-stages",
        "no-rollback",
        "unknown-gate",
        "bad-duration",
        "empty-traffic",
        "repeated-name",
        "typo",
        "bad-on-hold",
        "syntax",
    ],
)
def test_bad_plans_are_refused_naming_file_and_key(
    plan_file: Path, text: str, message: str
) -> None:
    from releasegate.errors import ConfigError

    plan_file.write_text(text)

    with pytest.raises(ConfigError) as caught:
        load_plan(plan_file)

    assert str(plan_file) in str(caught.value)
    assert message in str(caught.value)


def test_gates_accept_cli_stage_names(plan_file: Path) -> None:
    plan_file.write_text(
        'rollback = "x"\n[[stages]]\nname = "a"\ntraffic = "x"\ngates = ["post-deploy", "slo"]'
    )

    assert load_plan(plan_file).stages[0].gates == ["post_deploy", "slo"]


def test_plan_digest_changes_with_the_file(plan_file: Path) -> None:
    plan_file.write_text('rollback = "x"\n[[stages]]\nname = "a"\ntraffic = "x"')
    before = load_plan(plan_file).digest
    plan_file.write_text('rollback = "y"\n[[stages]]\nname = "a"\ntraffic = "x"')

    assert load_plan(plan_file).digest != before


def test_a_rollback_cut_off_is_run_again_by_resume(tmp_path: Path, state_file: Path) -> None:
    """Ctrl-C while the rollback runs: the state says rolling_back (traffic may not be
    restored); resume runs the rollback again and nothing else."""
    plan = make_plan(tmp_path)
    script = Script(gates={"internal": ["ROLLBACK"]})
    actions = script.actions()

    def cut_rollback() -> CommandRecord:
        raise KeyboardInterrupt

    rollout = engine(plan, script, state_file)
    rollout.actions = Actions(
        actions.traffic, actions.soak, actions.gates, cut_rollback, actions.baseline
    )
    with pytest.raises(KeyboardInterrupt):
        rollout.run()
    cut = read_state(state_file).status
    again = Script()

    status = engine(plan, again, state_file).run()

    assert cut == "rolling_back"
    assert (status, again.calls) == ("rolled_back", ["rollback"])


def test_gate_attempts_are_never_reused_after_a_cut(tmp_path: Path, state_file: Path) -> None:
    """A gate run cut off may still be writing its folder: the next attempt gets a new id."""
    plan = make_plan(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        engine(plan, Script(cut_off_in={("gates", "internal")}), state_file).run()
    again = Script()

    engine(plan, again, state_file).run()

    assert again.calls[:2] == ["soak internal", "gates internal #2"]


def test_a_plan_with_other_stages_is_refused_before_anything_runs(
    tmp_path: Path, state_file: Path
) -> None:
    from releasegate.errors import RolloutError

    engine(make_plan(tmp_path), Script(gates={"10%": ["HOLD"]}), state_file).run()
    other = tmp_path / "other"
    other.mkdir()
    (other / "rollout.toml").write_text('rollback = "x"\n[[stages]]\nname = "only"\ntraffic = "x"')
    script = Script()

    with pytest.raises(RolloutError):
        engine(load_plan(other / "rollout.toml"), script, state_file).run()

    assert script.calls == []


def test_the_state_keeps_a_digest_of_the_target_not_only_the_shown_value(
    tmp_path: Path, state_file: Path
) -> None:
    """The saver masks a secret target; its digest lets resume check the one it is given."""
    import hashlib

    plan = make_plan(tmp_path)
    state = new_state(
        "r2",
        plan,
        environment="prod",
        env_file=Path("environments/prod.toml"),
        base_url="https://secret-host.example",
        release_version=None,
        suites=Path("suites"),
    )
    state_saver(state_file, Redactor.of({"https://secret-host.example"}))(state)

    saved = read_state(state_file)

    assert "secret-host" not in state_file.read_text()
    assert saved.base_url_sha256 == hashlib.sha256(b"https://secret-host.example").hexdigest()
