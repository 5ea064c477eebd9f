"""The configuration file: strict schema, unique ids and keys, errors with the field path."""

from pathlib import Path

import pytest

from cluster.config import hash_api_key, load_config, parse_config
from cluster.errors import ConfigError
from cluster.keys import check_tenant_id

ROOT = Path(__file__).resolve().parents[3]
H1, H2 = hash_api_key("one"), hash_api_key("two")


def test_demo_config_loads_and_knows_the_demo_key() -> None:
    config = load_config(ROOT / "configs" / "vigil.yaml")
    assert config.key_hashes()[hash_api_key("demo-key-change-me")] == "demo"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("tenants: [{id: acme, colour: red}]", "tenants.0.colour"),  # unknown key
        ("tenants: [{id: 'Bad Id'}]", "tenants.0.id"),  # invalid tenant id
        ("tenants: [{id: vigil}]", "tenants.0.id"),  # reserved prefix
        ("tenants: [{id: a}, {id: a}]", "duplicate tenant id"),  # ids are unique
        (
            f"tenants: [{{id: a, api_keys: [{{sha256: {H1}}}]}}, "
            f"{{id: b, api_keys: [{{sha256: {H1}}}]}}]",
            "key hash used twice",
        ),  # one key cannot open two tenants
        ("tenants: [{id: a, api_keys: [{sha256: abc}]}]", "sha256"),  # not a SHA-256 digest
        ("tenants: [oops", "not valid YAML"),  # YAML syntax error
    ],
)
def test_errors_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_config(text)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config(tmp_path / "nope.yaml")


def test_key_hashes_map_to_tenants() -> None:
    config = parse_config(
        f"tenants: [{{id: a, api_keys: [{{sha256: {H1}}}]}}, "
        f"{{id: b, api_keys: [{{sha256: {H2}}}]}}]"
    )
    assert config.key_hashes() == {H1: "a", H2: "b"}


@pytest.mark.parametrize("tenant", ["acme", "a", "team-7", "x_y"])
def test_valid_tenant_ids(tenant: str) -> None:
    assert check_tenant_id(tenant) == tenant


@pytest.mark.parametrize("tenant", ["", "Acme", "-x", "a:b", "a" * 64, "vigil"])
def test_invalid_tenant_ids(tenant: str) -> None:
    with pytest.raises(ValueError, match="invalid tenant id"):
        check_tenant_id(tenant)


def test_demo_tenant_routes_from_its_alertmanager_file() -> None:
    from alerting.routing import receivers_for

    config = load_config(ROOT / "configs" / "vigil.yaml")
    routing = config.routing_for("demo")
    assert receivers_for(routing.root, {"service": "db", "severity": "critical"}) == [
        "team-db",
        "on-call-pager",
    ]
    assert "team-db" in routing.original  # the file's own text, for /api/v2/status
    assert hash_api_key("demo-routing-key-change-me") in config.integration_key_hashes()
    # A tenant without routing gets the single default receiver.
    assert config.routing_for("nobody").receiver_names() == ["default"]


def test_routing_errors_name_the_tenant_and_place(tmp_path: Path) -> None:
    (tmp_path / "am.yml").write_text("route: {receiver: ghost}\nreceivers: [{name: a}]\n")
    text = "tenants:\n  - id: t\n    alertmanager_config_file: am.yml\n"
    with pytest.raises(
        ConfigError, match=r"tenants\.0: .*am\.yml: route: undefined receiver 'ghost'"
    ):
        parse_config(text, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="cannot read"):
        parse_config(text.replace("am.yml", "missing.yml"), base_dir=tmp_path)
    inline = (
        "tenants:\n  - id: t\n"
        "    alertmanager: {route: {receiver: a, continue: true}, receivers: [{name: a}]}\n"
    )
    with pytest.raises(ConfigError, match=r"tenants\.0\.alertmanager: route: cannot have continue"):
        parse_config(inline)
    both = "tenants:\n  - id: t\n    alertmanager_config_file: x\n    alertmanager: {}\n"
    with pytest.raises(ConfigError, match="not both"):
        parse_config(both)


@pytest.mark.parametrize(
    ("correlation", "fragment"),
    [
        # An unknown key is refused, with its path.
        ("{windoww: 5m}", "correlation.windoww"),
        # Durations must parse and be positive.
        ("{window: 5 minutes}", "not a valid duration"),
        ("{flapping: {hold: 0s}}", "must be longer than 0s"),
        # Similarity is a fraction in (0, 1].
        ("{similarity: {threshold: 1.5}}", "correlation.similarity.threshold"),
        # The topology label must be a label name; hops are bounded.
        ("{topology: {label: 'bad-label'}}", "invalid label name"),
        ("{topology: {max_hops: 9}}", "correlation.topology.max_hops"),
    ],
)
def test_correlation_errors_name_the_field(correlation: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        parse_config(f"tenants:\n  - id: t\n    correlation: {correlation}\n")


def test_demo_tenant_correlates_by_topology_and_a_tenant_without_a_section_by_groups() -> None:
    config = load_config(Path("configs/vigil.yaml"))
    demo = config.correlation_for("demo").policy()
    assert demo.relatedness.topology is not None
    assert demo.relatedness.topology.path("checkout", {"db"}) == ["checkout", "db"]
    other = config.correlation_for("someone-else").policy()
    assert not other.relatedness.enabled and other.flapping.enabled


def test_escalation_receivers_must_exist_in_the_tenants_routing() -> None:
    section = (
        "    escalation:\n"
        "      policies: {p: {levels: [{targets: [{channel: slack}]}]}}\n"
        "      receivers: {pagr: p}\n"
    )
    with pytest.raises(ConfigError, match=r"tenants\.0\.escalation\.receivers\.pagr: no such"):
        parse_config("tenants:\n  - id: t\n" + section)
    fixed = parse_config("tenants:\n  - id: t\n" + section.replace("pagr", "default"))
    policy = fixed.tenants[0].escalation.policy_for("default")
    assert policy is not None and policy.name == "p"


def test_the_most_escalation_levels_comes_from_the_setting() -> None:
    levels = ", ".join(["{targets: [{channel: slack}]}"] * 4)
    text = f"tenants:\n  - id: t\n    escalation:\n      policies: {{p: {{levels: [{levels}]}}}}\n"
    assert parse_config(text).tenants[0].escalation.policies["p"].levels
    with pytest.raises(ConfigError, match=r"tenants\.0\.escalation\.policies\.p\.levels: .*\(3\)"):
        parse_config(text, max_escalation_levels=3)


def test_an_escalation_target_schedule_must_exist() -> None:
    text = (
        "tenants:\n  - id: t\n    escalation:\n"
        "      policies: {p: {levels: [{targets: [{schedule: primary}]}]}}\n"
    )
    with pytest.raises(ConfigError, match="targets schedule 'primary', which schedules lacks"):
        parse_config(text)
    schedule = (
        "    schedules:\n      primary:\n        layers:\n"
        "          - {rotation: daily, start: 2026-11-01, users: [ana]}\n"
    )
    config = parse_config(text + schedule)
    found = config.schedule_for("t", "primary")
    assert found is not None and found.time_zone == "UTC"
    assert config.schedule_for("t", "other") is None
    assert config.schedule_for("nobody", "primary") is None


def test_a_tenants_tier_sets_its_limits_and_names_its_sla_tier() -> None:
    config = parse_config(
        """
tenants:
  - id: big
    tier: enterprise
    limits: {max_silences: 7}
    escalation:
      sla_tiers:
        enterprise: {critical: {acknowledge: 5m}}
  - id: plain
"""
    )
    big = config.limits_for("big")
    assert (big.max_silences, big.requests_per_second) == (7, 2_000)
    assert config.limits_for("plain").requests_per_second == 200  # standard by default
    assert config.limits_for("made-at-run-time").burst == 1_000
    section = config.tenant("big")
    assert section is not None and section.escalation.sla_tier == "enterprise"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("tenants: [{id: a, tier: platinum}]", "tier"),
        ("tenants: [{id: a, limits: {requests_per_second: 0}}]", "requests_per_second"),
        (
            "tenants: [{id: a, tier: free, escalation: {sla_tier: gold, sla_tiers: "
            "{gold: {critical: {acknowledge: 5m}}}}}]",
            "contradicts tier",
        ),
    ],
)
def test_a_wrong_tier_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert fragment in str(info.value)
