"""Portal accounts (ideal.store.accounts): hashes, roles, the login lock, tokens; on SQLite
and PostgreSQL."""

import pytest
from sqlalchemy import select

from ideal.errors import AccountError, LoginLocked
from ideal.store import accounts
from ideal.store.models import ApiToken, User

PASSWORD = "a long enough secret"


def test_users_roles_and_countries(engine):
    mx = accounts.add_user(engine, "Steward.MX", PASSWORD, "steward", "mx", "es", ("MX", "CO"))
    assert (mx.username, mx.role, mx.country) == ("steward.mx", "steward", "MX")
    assert mx.may_see("MX") and not mx.may_see("CO") and not mx.is_analyst
    analyst = accounts.add_user(engine, "ana", PASSWORD, "analyst")
    assert analyst.may_see("CO") and analyst.is_analyst
    for bad, says in [(("x", PASSWORD, "analyst"), "user name"), (("bob", "short", "analyst"), "at least"),
                      (("bob", PASSWORD, "king"), "role"), (("bob", PASSWORD, "steward"), "bound to one country"),
                      (("ana", PASSWORD, "analyst"), "already exists")]:
        with pytest.raises(AccountError, match=says):
            accounts.add_user(engine, *bad, members=("MX", "CO"))
    with engine.connect() as conn:  # only an argon2 hash is stored
        stored = conn.execute(select(User.password_hash)).scalars().all()
    assert all(h.startswith("$argon2") and PASSWORD not in h for h in stored)


def test_login_and_the_lock_after_failures(engine):
    accounts.add_user(engine, "ana", PASSWORD, "analyst")
    assert accounts.authenticate(engine, "ana", PASSWORD, "127.0.0.1").username == "ana"
    for _ in range(accounts.FAILURE_LIMIT):
        assert accounts.authenticate(engine, "ana", "wrong", "127.0.0.1") is None
    with pytest.raises(LoginLocked):
        accounts.authenticate(engine, "ana", PASSWORD, "127.0.0.1")
    assert accounts.authenticate(engine, "nobody", PASSWORD) is None


def test_tokens_are_digests_and_end_with_the_account(engine):
    accounts.add_user(engine, "ana", PASSWORD, "analyst")
    token = accounts.make_token(engine, "ana", "script")
    assert accounts.user_for_token(engine, token).username == "ana"
    assert accounts.user_for_token(engine, token + "x") is None
    with engine.connect() as conn:
        assert token not in conn.execute(select(ApiToken.token_sha256)).scalars().all()
    accounts.set_active(engine, "ana", False)
    assert accounts.user_for_token(engine, token) is None
    assert accounts.authenticate(engine, "ana", PASSWORD) is None
    accounts.set_active(engine, "ana", True)
    assert accounts.user_for_token(engine, token) is None  # revoked stays revoked
    accounts.set_password(engine, "ana", "another long secret")
    assert accounts.authenticate(engine, "ana", "another long secret").username == "ana"


@pytest.mark.parametrize("weak, says", [
    ("aaaaaaaaaa", "5 different characters"), (" " * 10, "at least 10"), ("  short  ", "at least 10"),
    ("1234567890", "most common"), ("qwertyuiop", "most common"), ("Password123!", "most common"),
    ("ana-xyz-2026", "user name")])
def test_the_password_policy_refuses_weak_ones(engine, weak, says):
    """#34: "aaaaaaaaaa" and ten spaces were accepted. NIST SP 800-63B: length, a list of
    common passwords (zxcvbn's 30,000), not the user name; a passphrase passes."""
    with pytest.raises(AccountError, match=says):
        accounts.add_user(engine, "ana", weak, "analyst")
    assert accounts.add_user(engine, "ana", "three plain words", "analyst").username == "ana"


@pytest.mark.parametrize("guessable, says", [
    ("ideal123456", "service's own words"), ("Ideal2026!", "service's own words"),
    ("CLASI2026!!", "service's own words"), ("Colombia2026!", "service's own words"),
    ("contraseña123", "most common"), ("senha123456", "most common"), ("correcthorse", "easy to guess"),
    ("maria.lopez.77", "another user"), ("lopez-secret-key", "another user")])
def test_passwords_a_colleague_would_guess_are_refused(engine, guessable, says):
    """#46: ideal123456, Ideal2026!, CLASI2026!!, contraseña123, correcthorse and a password holding
    another user's name were accepted while senha123456 was refused."""
    accounts.add_user(engine, "maria.lopez", "tortuga verde lima 9", "analyst")
    with pytest.raises(AccountError, match=says):
        accounts.add_user(engine, "ana.garcia", guessable, "analyst")
    accounts.add_user(engine, "ana.garcia", "El perro de Juana 77", "analyst")
    with pytest.raises(AccountError, match=says):  # a new password of ana's: the same rules
        accounts.set_password(engine, "ana.garcia", guessable)
    assert accounts.authenticate(engine, "ana.garcia", "El perro de Juana 77").username == "ana.garcia"


def test_a_new_password_revokes_the_tokens_and_one_token_can_be_revoked(engine):
    """#34: a password change left the API tokens working, and no command revoked one."""
    accounts.add_user(engine, "ana", PASSWORD, "analyst")
    first, second = accounts.make_token(engine, "ana", "nightly"), accounts.make_token(engine, "ana", "manual")
    ids = {t["name"]: t["id"] for t in accounts.tokens(engine, "ana")}
    accounts.revoke_token(engine, "ana", ids["manual"])
    assert accounts.user_for_token(engine, second) is None and accounts.user_for_token(engine, first)
    with pytest.raises(AccountError, match="no token 999"):
        accounts.revoke_token(engine, "ana", 999)
    accounts.set_password(engine, "ana", "another long secret")
    assert accounts.user_for_token(engine, first) is None
    assert all(t["revoked"] for t in accounts.tokens(engine, "ana"))
