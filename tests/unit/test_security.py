"""Staff tokens, one-time links, sealed values and passwords."""

from __future__ import annotations

import base64
import re
import secrets
import uuid

import argon2
import pytest

from teleservices.shared.security.links import LinkPurpose, LinkRejected, issue_link_token, read_link_token
from teleservices.shared.security.passwords import (
    TEMPORARY_PASSWORD_ALPHABET,
    TEMPORARY_PASSWORD_LENGTH,
    hash_password,
    hash_temporary_password,
    needs_rehash,
    new_temporary_password,
    verify_password,
)
from teleservices.shared.security.sealing import UnsealError, seal, unseal
from teleservices.shared.security.staff import (
    STAFF_TOKEN_TTL_S,
    InvalidStaffToken,
    Role,
    StaffPrincipal,
    issue_staff_token,
    read_staff_token,
)

KEY = secrets.token_urlsafe(48)
OTHER_KEY = secrets.token_urlsafe(48)
NOW = 1_750_000_000.0
ACCOUNT = uuid.UUID("5b0e6c1e-64c8-4a0e-9a57-2a8f3f1c0d11")

CHEF = StaffPrincipal(user_id="chef-1", display_name="Mme Martin", role=Role.chef, academy="paris",
                      uais=("0750001A", "0750002B"))
DELEGUE = StaffPrincipal(user_id="del-1", display_name="M. Petit", role=Role.delegue, academy="paris",
                         uais=("0750001A",), menus=("acces_responsables",))
OPERATEUR = StaffPrincipal(user_id="op-1", display_name="Opérateur", role=Role.operateur_academique,
                           academy="paris")


def _flip_last_char(text: str) -> str:
    return _flip_char(text, len(text) - 1)


def _flip_char(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]


# --- staff tokens ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("principal", [CHEF, DELEGUE, OPERATEUR], ids=lambda p: p.role.value)
def test_staff_token_round_trip(principal: StaffPrincipal) -> None:
    token = issue_staff_token(principal, KEY, now=NOW)
    assert read_staff_token(token, KEY, now=NOW + STAFF_TOKEN_TTL_S - 1) == principal


def test_staff_token_expires_after_its_ttl() -> None:
    token = issue_staff_token(CHEF, KEY, ttl_s=60, now=NOW)
    assert read_staff_token(token, KEY, now=NOW + 59) == CHEF
    for later in (NOW + 60, NOW + 3600):
        with pytest.raises(InvalidStaffToken, match="expired"):
            read_staff_token(token, KEY, now=later)


def test_staff_token_with_altered_body_is_refused() -> None:
    token = issue_staff_token(DELEGUE, KEY, now=NOW)
    body, signature = token.split(".")
    forged_principal = DELEGUE.model_copy(update={"role": Role.operateur_academique})
    forged_body = issue_staff_token(forged_principal, OTHER_KEY, now=NOW).split(".")[0]
    for tampered in (f"{forged_body}.{signature}", f"{_flip_last_char(body)}.{signature}", f"x{token}"):
        with pytest.raises(InvalidStaffToken):
            read_staff_token(tampered, KEY, now=NOW)


@pytest.mark.parametrize("mangle", [
    _flip_last_char,
    lambda token: token.split(".")[0],
    lambda token: token.split(".")[0] + ".",
    lambda token: "",
    lambda token: "not-a-token",
], ids=["altered-signature", "no-signature", "empty-signature", "empty", "garbage"])
def test_staff_token_with_bad_signature_is_refused(mangle) -> None:
    token = issue_staff_token(CHEF, KEY, now=NOW)
    with pytest.raises(InvalidStaffToken):
        read_staff_token(mangle(token), KEY, now=NOW)


def test_staff_token_signed_with_another_key_is_refused() -> None:
    token = issue_staff_token(CHEF, OTHER_KEY, now=NOW)
    with pytest.raises(InvalidStaffToken):
        read_staff_token(token, KEY, now=NOW)


def test_a_link_token_is_not_a_staff_token() -> None:
    link = issue_link_token(KEY, ACCOUNT, LinkPurpose.activation, ttl_s=3600, now=NOW)
    with pytest.raises(InvalidStaffToken):
        read_staff_token(link, KEY, now=NOW)


@pytest.mark.parametrize(("principal", "uai", "allowed"), [
    (CHEF, "0750001A", True),
    (CHEF, "0750002B", True),
    (CHEF, "0930001C", False),
    (DELEGUE, "0750001A", True),
    (DELEGUE, "0750002B", False),
    (OPERATEUR, "0750001A", True),
    (OPERATEUR, "0930001C", True),
])
def test_may_act_on_by_role(principal: StaffPrincipal, uai: str, allowed: bool) -> None:
    assert principal.may_act_on(uai) is allowed


@pytest.mark.parametrize(("principal", "menu", "allowed"), [
    (CHEF, "acces_responsables", True),
    (CHEF, "acces_eleves", True),
    (DELEGUE, "acces_responsables", True),
    (DELEGUE, "acces_eleves", False),
    (OPERATEUR, "acces_eleves", True),
])
def test_may_use_by_role(principal: StaffPrincipal, menu: str, allowed: bool) -> None:
    assert principal.may_use(menu) is allowed


# --- one-time links --------------------------------------------------------------------------------------


def test_link_round_trip() -> None:
    token = issue_link_token(KEY, ACCOUNT, LinkPurpose.password_reset, ttl_s=600, now=NOW)
    claims = read_link_token(KEY, token, LinkPurpose.password_reset, now=NOW + 599)
    assert (claims.account_id, claims.purpose, claims.expires_at) == (ACCOUNT, LinkPurpose.password_reset,
                                                                      int(NOW) + 600)
    assert claims.link_id


def test_link_for_another_purpose_is_invalid() -> None:
    token = issue_link_token(KEY, ACCOUNT, LinkPurpose.email_validation, ttl_s=600, now=NOW)
    with pytest.raises(LinkRejected) as rejected:
        read_link_token(KEY, token, LinkPurpose.password_reset, now=NOW)
    assert rejected.value.reason == "invalid"


@pytest.mark.parametrize("later", [600, 601, 86_400])
def test_link_expires(later: int) -> None:
    token = issue_link_token(KEY, ACCOUNT, LinkPurpose.activation, ttl_s=600, now=NOW)
    with pytest.raises(LinkRejected) as rejected:
        read_link_token(KEY, token, LinkPurpose.activation, now=NOW + later)
    assert rejected.value.reason == "expired"


@pytest.mark.parametrize("forge", [
    lambda token: issue_link_token(OTHER_KEY, ACCOUNT, LinkPurpose.activation, ttl_s=600, now=NOW),
    _flip_last_char,
    lambda token: _flip_char(token, 3),
    lambda token: issue_link_token(KEY, ACCOUNT, LinkPurpose.activation, ttl_s=600, now=NOW)[:-24] + token[-24:],
    lambda token: token.replace("-", "+").replace("_", "/") if {"-", "_"} & set(token) else "+" + token[1:],
    lambda token: token[:40] + "!" + token[41:],
    lambda token: token + "=",
    lambda token: issue_staff_token(CHEF, KEY, now=NOW),
    lambda token: "",
], ids=["other-key", "altered-signature", "altered-claims", "other-claims", "not-base64url", "foreign-character",
        "padded", "staff-token", "empty"])
def test_forged_link_is_invalid(forge) -> None:
    token = issue_link_token(KEY, ACCOUNT, LinkPurpose.activation, ttl_s=600, now=NOW)
    with pytest.raises(LinkRejected) as rejected:
        read_link_token(KEY, forge(token), LinkPurpose.activation, now=NOW)
    assert rejected.value.reason == "invalid"


def test_a_link_token_is_72_url_safe_characters() -> None:
    """Short enough for a version 8 QR code on the letter; nothing in it needs escaping in a URL."""
    token = issue_link_token(KEY, ACCOUNT, LinkPurpose.first_connection, ttl_s=90 * 86_400, now=NOW)
    assert re.fullmatch(r"[A-Za-z0-9_-]{72}", token)


def test_two_links_for_the_same_account_differ() -> None:
    first = issue_link_token(KEY, ACCOUNT, LinkPurpose.first_connection, ttl_s=600, now=NOW)
    second = issue_link_token(KEY, ACCOUNT, LinkPurpose.first_connection, ttl_s=600, now=NOW)
    assert first != second
    ids = {read_link_token(KEY, t, LinkPurpose.first_connection, now=NOW).link_id for t in (first, second)}
    assert len(ids) == 2


# --- sealing ---------------------------------------------------------------------------------------------


def test_seal_round_trip() -> None:
    sealed = seal(KEY, "k7m2p9qx", str(ACCOUNT))
    assert "k7m2p9qx" not in sealed
    assert unseal(KEY, sealed, str(ACCOUNT)) == "k7m2p9qx"


def test_two_seals_of_the_same_value_differ() -> None:
    assert seal(KEY, "k7m2p9qx", "ctx") != seal(KEY, "k7m2p9qx", "ctx")


def _altered(sealed: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(sealed))
    raw[-1] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(("key", "make_token", "context"), [
    (KEY, lambda s: s, "another-account"),
    (OTHER_KEY, lambda s: s, "ctx"),
    (KEY, _altered, "ctx"),
    (KEY, lambda s: s[:20], "ctx"),
    (KEY, lambda s: "", "ctx"),
    (KEY, lambda s: "!!not base64!!", "ctx"),
], ids=["wrong-context", "wrong-key", "altered", "truncated", "empty", "garbage"])
def test_unseal_refuses(key: str, make_token, context: str) -> None:
    sealed = seal(KEY, "k7m2p9qx", "ctx")
    with pytest.raises(UnsealError):
        unseal(key, make_token(sealed), context)


# --- passwords -------------------------------------------------------------------------------------------


def test_temporary_passwords_use_the_alphabet_without_look_alikes() -> None:
    assert not set("0o1li") & set(TEMPORARY_PASSWORD_ALPHABET)
    draws = [new_temporary_password() for _ in range(200)]
    for password in draws:
        assert len(password) == TEMPORARY_PASSWORD_LENGTH == 8
        assert set(password) <= set(TEMPORARY_PASSWORD_ALPHABET)
        assert not set(password) & set("0o1li")
    assert len(set(draws)) > 1


def test_hash_and_verify() -> None:
    hashed = hash_password("k7m2p9qx")
    assert "k7m2p9qx" not in hashed
    assert verify_password(hashed, "k7m2p9qx")
    assert not verify_password(hashed, "k7m2p9qy")
    assert not verify_password(hashed, "")
    assert hash_password("k7m2p9qx") != hashed


def test_verify_against_garbage_hash_is_false() -> None:
    assert not verify_password("not-a-hash", "k7m2p9qx")


def test_hash_uses_argon2id_with_owasp_parameters() -> None:
    hashed = hash_password("k7m2p9qx")
    assert hashed.startswith("$argon2id$")
    assert "m=19456,t=2" in hashed
    assert not needs_rehash(hashed)


def test_a_drawn_temporary_password_gets_a_salted_argon2id_hash_the_common_check_verifies() -> None:
    drawn = new_temporary_password()
    hashed = hash_temporary_password(drawn)
    assert hashed.startswith("$argon2id$") and "m=2048,t=1" in hashed and drawn not in hashed
    assert hash_temporary_password(drawn) != hashed
    assert verify_password(hashed, drawn) and not verify_password(hashed, drawn[::-1] + "x")


def test_hash_made_with_weaker_parameters_needs_rehash() -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024).hash("k7m2p9qx")
    assert needs_rehash(weak)
    assert verify_password(weak, "k7m2p9qx")
