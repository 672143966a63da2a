import pytest

from tfpvae import families


def test_names_by_role_include_the_core_set():
    names = families.names()
    assert set(names) == {"prior", "posterior", "likelihood"}
    assert {"normal", "learned_normal", "mixture"} <= set(names["prior"])
    assert {"normal", "mvn_tril"} <= set(names["posterior"])
    assert {"bernoulli", "normal", "mvn_tril"} <= set(names["likelihood"])


def test_get_by_name_and_by_dict():
    assert families.get("mixture", role="prior").components == 10
    family = families.get({"name": "mixture", "components": 3}, role="prior")
    assert family.components == 3
    assert families.get(family.get_config(), role="prior").get_config() == family.get_config()


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown likelihood family 'gamma'.*'bernoulli'"):
        families.get("gamma", role="likelihood")


def test_name_valid_for_another_role_only_is_rejected():
    with pytest.raises(ValueError, match="unknown posterior family 'mixture'"):
        families.get("mixture", role="posterior")


@pytest.mark.parametrize("spec", [3, {"components": 2}, None, ["normal"]])
def test_malformed_spec_says_what_a_spec_is(spec):
    with pytest.raises(ValueError, match="must be a name or a dict with a 'name' key"):
        families.get(spec, role="prior")


def test_unknown_option_is_a_value_error():
    with pytest.raises(ValueError, match="bad options for prior family 'mixture'"):
        families.get({"name": "mixture", "colour": "red"}, role="prior")


@pytest.mark.parametrize("spec", [{"name": "mixture", "components": 0},
                                  {"name": "normal", "min_scale": -1.0}])
def test_invalid_option_values_are_named(spec):
    with pytest.raises(ValueError, match="components|min_scale"):
        families.get(spec, role="prior")


@pytest.mark.parametrize("role,spec,message", [
    ("likelihood", {"name": "bernoulli", "min_scale": 0.1}, "likelihood 'bernoulli' has no scale parameter"),
    ("prior", {"name": "mixture", "components": 0}, "prior 'mixture': components must be a positive int"),
    ("posterior", {"name": "iaf", "steps": 0}, "posterior 'iaf': steps must be a positive int"),
])
def test_an_option_error_is_led_by_the_role(role, spec, message):
    """The role is the VAE argument the spec was given as, so the error names it."""
    with pytest.raises(ValueError) as error:
        families.get(spec, role=role)
    assert str(error.value).startswith(message)


def test_unknown_role():
    with pytest.raises(ValueError, match="role must be one of"):
        families.get("normal", role="decoder")
