"""The ``vigil`` commands of the risk model: simulate, train, models.

vigil simulate [--scenario training|evaluation] [--seed N] [--tenants N] [--days D]
               [--out history.jsonl] [--alerts alerts.jsonl]
               [--send [--speed 600] [--api-key KEY] [--url URL]]
    simulated traffic, replayed through the correlation engine into labelled
    examples (for ``vigil train --from``), and optionally the raw alerts with truth
    (for ``vigil train --from-alerts``);
    with ``--send``, posted to a running Vigil instead, time compressed by ``speed``
vigil train [--from FILE.jsonl | --from-alerts ALERTS.jsonl | --simulated]
            [--holdout 0.25] [--rounds 200] [--promote auto|always|never]
    train on the recorded history (every tenant's labelled incidents in Redis), an
    export, real alert history (Alertmanager JSON Lines, or a PagerDuty incident CSV)
    replayed through the correlation engine, or the
    simulator; evaluate; register the model; promote it if it beats the champion and
    its best single input
vigil models
    the registered models, the serving one, and the newest promotion decisions
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from cli.command_redis import command_client
from cli.parser import DEMO_API_KEY
from cli.progress import ProgressBar
from cli.running import running_api_url
from cli.sim_send import send_simulation
from cluster.redis_client import sync_client
from cluster.settings import Settings
from models.alert_history import HistoryEvent, read_alert_history, write_alert_history
from models.export import read_examples, write_examples
from models.features import FEATURE_NAMES
from models.history_store import read_history
from models.pagerduty_history import read_pagerduty_csv
from models.registry import ModelCard, ModelRegistry
from models.replay import replay, replay_history
from models.retrain import retrain
from models.simulate import SCENARIOS, SimAlert, simulate
from models.starter import STARTER_NOTES, register_starter, starter_history
from models.train import Example
from models.trust import SIMULATION, Standing


def _say(message: str) -> None:
    print(message, flush=True)


def cmd_simulate(args: argparse.Namespace) -> int:
    """Simulate, replay, and write what was asked for."""
    scenario = SCENARIOS[args.scenario]
    if args.days is not None:
        scenario = replace(scenario, days=args.days)
    _say(
        f"simulating    {scenario.name} mix, {scenario.days:g} days, {args.tenants} tenants, "
        f"seed {args.seed}"
    )
    simulation = simulate(scenario, args.seed, args.tenants)
    if args.send:
        return _send(simulation.alerts, args)
    bar = ProgressBar()
    replayed = replay(simulation, progress=lambda d, t: bar("replaying through the engine", d, t))
    real = sum(a.truth for a in simulation.alerts)
    _say(f"alerts        {len(simulation.alerts)} changes, {real} of them from real incidents")
    _say(f"incidents     {replayed.incidents} labelled, {replayed.real_incidents} real")
    _say(
        f"examples      {len(replayed.examples)} (labels agree with the truth: "
        f"{replayed.label_agrees_with_truth:.1%})"
    )
    if args.out is not None:
        try:
            write_examples(args.out, replayed.examples)
        except (OSError, ValueError) as exc:
            _say(f"cannot write {args.out}: {exc}")
            return 2
        _say(f"wrote         {args.out}   (train with: vigil train --from {args.out})")
    if args.alerts is not None:
        written = write_alert_history(args.alerts, simulation.alerts)
        _say(
            f"wrote         {args.alerts}   ({written} alerts with their truth; train with:"
            f" vigil train --from-alerts {args.alerts})"
        )
    return 0


def _send(alerts: list[SimAlert], args: argparse.Namespace) -> int:
    """Post the simulated traffic to a running Vigil, with a progress bar."""
    if args.speed <= 0:
        _say("--speed must be above 0")
        return 2
    url = args.url or running_api_url(Settings.from_env().resolved())
    span = (alerts[-1].at - alerts[0].at).total_seconds() / args.speed if alerts else 0.0
    _say(f"sending       {len(alerts)} alert changes to {url} over ~{span:.0f} s")
    bar = ProgressBar()
    try:
        sent = send_simulation(
            alerts,
            url,
            args.api_key or DEMO_API_KEY,
            args.speed,
            progress=lambda d, t: bar("sending", d, t),
        )
    except OSError as exc:
        _say(f"cannot reach {url}: {exc}; is Vigil up?")
        return 1
    _say(
        f"sent          {sent.alerts} alerts in {sent.requests} requests, {sent.seconds:.0f} s; "
        f"{sent.refused} requests refused"
    )
    return 0 if sent.refused == 0 else 1


def read_alert_file(path: Path) -> list[HistoryEvent]:
    """Alert history in either format: a PagerDuty incident CSV (``.csv``), else JSON
    Lines of Alertmanager alerts or webhook payloads."""
    if path.suffix.lower() == ".csv":
        return read_pagerduty_csv(path)
    return read_alert_history(path)


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    """Train from the chosen history, register, and decide on promotion."""
    bar = ProgressBar()
    notes, source = "", "history"
    examples: list[Example]
    if args.simulated:
        examples = starter_history(bar)
        notes, source = STARTER_NOTES, SIMULATION
    elif getattr(args, "alerts_file", None) is not None:
        try:
            events = read_alert_file(args.alerts_file)
        except (OSError, ValueError) as exc:
            _say(f"cannot read {args.alerts_file}: {exc}")
            return 2
        replayed = replay_history(events, progress=lambda d, t: bar("replaying", d, t))
        examples = replayed.examples
        _say(
            f"replayed      {len(events)} alert changes into {replayed.incidents} labelled "
            f"incidents, {replayed.real_incidents} actionable"
        )
        notes = f"alert history {args.alerts_file.name}"
    elif args.source is not None:
        try:
            examples = read_examples(args.source)
        except (OSError, ValueError) as exc:
            _say(f"cannot read {args.source}: {exc}")
            return 2
        notes = f"export {args.source.name}"
    else:
        examples = []
    with command_client(settings) as client:
        if not notes:  # not the simulator, an export nor alert history: what was recorded
            examples = read_history(client)
            notes = "recorded history"
        labels = sum(e.label for e in examples)
        _say(f"history       {len(examples)} examples, {labels} actionable ({notes})")
        try:
            result = retrain(
                ModelRegistry(client),
                examples,
                holdout=args.holdout,
                rounds=args.rounds,
                promote=args.promote,
                notes=notes,
                source=source,
                progress=lambda d, t: bar("training", d, t),
            )
        except ValueError as exc:
            _say(f"cannot train: {exc}")
            return 1
    card = result.card
    _say(f"model         {card.version}  ({card.examples} examples, fitted on all of them)")
    for line in [*evaluation_lines(card), *trust_lines(card)]:
        _say(line)
    if result.champion_metrics is not None:
        shown = "  ".join(f"{k} {v:.3f}" for k, v in result.champion_metrics.items())
        _say(f"champion      {result.champion}: {shown}")
    verdict = "promoted" if result.decision.promote else "not promoted"
    _say(f"decision      {verdict}: {result.decision.reason}")
    return 0


def held_out_columns(card: ModelCard) -> str:
    """A card's held-out figures as ``vigil models`` columns."""
    m = card.metrics
    if not m:
        return f"{'not evaluated':>39}"
    figures = f"{m['roc_auc']:>8.3f} {m['pr_auc']:>7.3f}"
    evaluation = card.evaluation
    if evaluation is None:  # a card from before evaluations: no base rate, no baseline
        return f"{figures} {'':>5} {m['brier']:>6.3f} {'':>8}"
    baseline = evaluation["baseline"]["figures"]["roc_auc"]
    flag = " " if evaluation["beats_baseline"] else "!"
    return f"{figures} {evaluation['base_rate']:>5.2f} {m['brier']:>6.3f} {baseline:>7.3f}{flag}"


def evaluation_lines(card: ModelCard) -> list[str]:
    """What ``vigil train`` says of a new model's evaluation."""
    evaluation = card.evaluation
    if evaluation is None:
        return ["held-out      none (--holdout 0): not evaluated, promoted only by hand"]
    model, baseline = evaluation["model"], evaluation["baseline"]
    verdict = "beats" if evaluation["beats_baseline"] else "does NOT beat"
    which = (
        "newest" if evaluation["split"] == "time" else "at random: the newest were all of one kind"
    )
    return [
        f"held-out      {evaluation['test_examples']} examples of "
        f"{evaluation['test_incidents']} incidents ({which}, none seen in training), "
        f"{evaluation['base_rate']:.1%} actionable",
        f"model         ROC-AUC {model['roc_auc']:.3f}  PR-AUC {model['pr_auc']:.3f}  "
        f"Brier {model['brier']:.3f}  precision {model['precision']:.3f} / recall "
        f"{model['recall']:.3f} at {evaluation['threshold']}",
        f"baseline      {baseline['feature']} alone: ROC-AUC "
        f"{baseline['figures']['roc_auc']:.3f}  PR-AUC {baseline['figures']['pr_auc']:.3f}"
        f"  (the model {verdict} it)",
    ]


def trust_lines(card: ModelCard) -> list[str]:
    """Per tenant it learnt from, whether this model's risk is trusted or provisional
    there (``models/trust.py``); every other tenant's is provisional."""
    standing = Standing.of(card)
    lines = []
    for tenant in sorted(card.labelled) if card.source != SIMULATION else []:
        actionable, noise = card.labelled[tenant]
        reason = standing.provisional_reason(tenant)
        said = "trusted" if reason is None else "provisional"
        lines.append(
            f"  {tenant:<20} {actionable + noise:>6} labelled, {actionable:>5} actionable: {said}"
        )
    general = standing.provisional_reason("")
    header = (
        f"risk of {card.version}: provisional for every tenant ({general})"
        if general is not None and not lines
        else f"risk of {card.version}, by tenant (any other tenant: provisional)"
    )
    return [header, *lines]


def cmd_models(settings: Settings) -> int:
    """Print the registered models and the newest decisions."""
    with command_client(settings) as client:
        registry = ModelRegistry(client)
        promoted, cards, log = registry.promoted(), registry.cards(), registry.log()[-10:]
    if not cards:
        _say("no model registered yet (vigil train, or vigil up trains a starter model)")
        return 0
    _say(
        f"{'version':<9} {'examples':>8} {'roc_auc':>8} {'pr_auc':>7} {'base':>5} "
        f"{'brier':>6} {'baseline':>8}  notes"
    )
    for c in cards:
        mark = "*" if c.version == promoted else " "
        _say(f"{c.version:<8}{mark} {c.examples:>8} {held_out_columns(c)}  {c.notes}")
    _say("* serves (unless CRITICAL_ALERT_PREDICTION_MODEL pins another)")
    _say("figures on the newest held-out incidents; base: their actionable share;")
    _say("baseline: the best single input's ROC-AUC there (! the model does not beat it)")
    for entry in log:
        _say(f"{entry['decision']:<9} {entry['version']}: {entry['reason']}")
    serving = next((c for c in cards if c.version == promoted), None)
    if serving is not None:
        for line in trust_lines(serving):
            _say(line)
    return 0


def ensure_starter_model(settings: Settings) -> str | None:
    """With ML on and nothing registered, train and promote the starter model (``up``)."""
    if not settings.ml_enabled or settings.redis_url is None:
        return None
    registry = ModelRegistry(sync_client(settings.redis_url))
    reason = "no model was registered"
    if registry.cards():
        serving = registry.serving(settings.prediction_model)
        if serving is None or registry.card(serving).features == list(FEATURE_NAMES):
            return serving
        if settings.prediction_model is not None:
            _say(f"model         the pinned {serving} learnt other features: nothing is scored")
            return serving
        reason = f"the serving {serving} learnt other features than this Vigil computes"
    _say(f"model         {reason}: training a starter model on simulated history")
    return register_starter(registry, f"starter model: {reason}", progress=ProgressBar())


def run_ml_command(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch ``simulate``, ``train`` or ``models``."""
    if args.command == "simulate":
        return cmd_simulate(args)
    if args.command == "train":
        return cmd_train(settings, args)
    return cmd_models(settings)
