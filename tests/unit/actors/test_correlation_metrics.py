"""The correlator's metric of risk at outcome: the live check of the served scores."""

from actors.correlation_metrics import CorrelationMetrics
from alerting.risk import RiskScore
from alerting.severity import Severity
from cluster.metrics import REGISTRY
from tests.unit.alerting.helpers import at
from tests.unit.alerting.test_correlation import Story


def sample(name: str, tenant: str, outcome: str, standing: str, **more: str) -> float | None:
    labels = {"tenant": tenant, "outcome": outcome, "standing": standing, **more}
    return REGISTRY.get_sample_value(f"vigil_risk_score_at_outcome_{name}", labels)


def test_each_labelled_incident_counts_its_score_under_its_outcome_and_standing() -> None:
    tenant = "t-risk-at-outcome"
    metrics = CorrelationMetrics(tenant)
    for outcome in ("actionable", "noise"):  # every series exists from the start, at 0
        for standing in ("trusted", "provisional"):
            assert sample("count", tenant, outcome, standing) == 0.0
    s = Story()
    for n, name in enumerate(("DBDown", "DiskFull", "Flaky")):
        s.fire(n, Severity.CRITICAL, alertname=name, service=name)
    s.engine.tick(at(5))
    db, disk, flaky = sorted(s.engine.take_to_score(), key=lambda i: i.group_key)
    s.engine.set_risk(db.id, RiskScore(0.92, "v3", at(6)))
    s.engine.set_risk(disk.id, RiskScore(0.3, "v3", at(6), "too few of the tenant's incidents"))
    metrics.count_outcomes([(db, 1), (disk, 0), (flaky, 0)])  # flaky was never scored
    assert sample("count", tenant, "actionable", "trusted") == 1.0
    assert sample("sum", tenant, "actionable", "trusted") == 0.92
    assert sample("bucket", tenant, "actionable", "trusted", le="0.9") == 0.0
    assert sample("count", tenant, "noise", "provisional") == 1.0
    assert sample("bucket", tenant, "noise", "provisional", le="0.3") == 1.0
    assert sample("count", tenant, "noise", "trusted") == 0.0
