"""Normalisation of what Chinese users type, masking, and field encryption."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag

from crm_core.crypto import FieldCipher
from crm_core.normalize import (
    FormatError,
    mask_id_number,
    mask_phone,
    national_display,
    normalize_email,
    normalize_id_number,
    normalize_name,
    normalize_phone,
)


@pytest.mark.parametrize("raw", [
    "13812345678", "138 1234 5678", "138-1234-5678", "(138)1234-5678", "138.1234.5678",
    "+8613812345678", "+86 138 1234 5678", "+86-138-1234-5678", "008613812345678",
    "0086 138 1234 5678", "8613812345678", "86 138 1234 5678", "  13812345678  ",
    "１３８１２３４５６７８", "１３８　１２３４　５６７８", "＋８６ １３８ １２３４ ５６７８",
    "（138）12345678",
])
def test_mobile_numbers_in_any_format_become_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+8613812345678"


@pytest.mark.parametrize(("raw", "e164"), [
    ("010-12345678", "+861012345678"),
    ("(010) 1234 5678", "+861012345678"),
    ("+86 10 1234 5678", "+861012345678"),
    ("021-87654321", "+862187654321"),
    ("0755-8765 4321", "+8675587654321"),
    ("+1 650-253-0000", "+16502530000"),
    ("+44 20 7946 0958", "+442079460958"),
    ("19912345678", "+8619912345678"),
])
def test_landlines_and_foreign_numbers(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", [
    "1381234567",  # 10 digits
    "138123456789",  # 12 digits
    "12812345678",  # no mobile starts with 12
    "138abcd5678", "phone", "13812345678 ext 5", "+86 138 1234 567x",
    "", "   ", "12", "010-1234", "+999 1234 5678",
])
def test_invalid_phones_are_refused(raw: str) -> None:
    with pytest.raises(FormatError):
        normalize_phone(raw)


def test_invalid_phone_messages_are_readable() -> None:
    with pytest.raises(FormatError, match="11 digits"):
        normalize_phone("1381234567")
    with pytest.raises(FormatError, match="not digits"):
        normalize_phone("138abcd5678")


@pytest.mark.parametrize(("e164", "shown", "masked"), [
    ("+8613812345678", "13812345678", "138****5678"),
    ("+861012345678", "01012345678", "010****5678"),
    ("+8675587654321", "075587654321", "075*****4321"),
])
def test_display_and_masking(e164: str, shown: str, masked: str) -> None:
    assert national_display(e164) == shown
    assert mask_phone(e164) == masked
    assert shown not in masked


def test_masking_never_reveals_short_or_empty_values() -> None:
    assert mask_phone(None) is None and mask_phone("") == ""
    assert mask_phone("+8612345") == "******"  # shown as 012345
    assert mask_id_number(None) is None and mask_id_number("") == ""
    assert mask_id_number("11010519491231002X") == "110***********002X"
    for short in ("1234", "1234567"):
        assert mask_id_number(short) == "*" * len(short)


@pytest.mark.parametrize(("raw", "normal"), [
    ("Zhang.San@Example.COM", "zhang.san@example.com"),
    ("  li@acme.com ", "li@acme.com"),
    ("wang+crm@qq.com", "wang+crm@qq.com"),
    ("用户@例子.中国", "用户@例子.中国"),
])
def test_emails(raw: str, normal: str) -> None:
    assert normalize_email(raw) == normal


@pytest.mark.parametrize("raw", ["", "zhang", "zhang@", "@example.com", "a b@example.com",
                                 "zhang@@example.com", "zhang@example..com"])
def test_invalid_emails(raw: str) -> None:
    with pytest.raises(FormatError):
        normalize_email(raw)


@pytest.mark.parametrize(("raw", "normal"), [
    ("11010519491231002X", "11010519491231002X"),
    ("11010519491231002x", "11010519491231002X"),
    (" 11010519491231002X ", "11010519491231002X"),
    ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
    ("440524188001010014", "440524188001010014"),
])
def test_id_numbers_with_a_valid_check_digit(raw: str, normal: str) -> None:
    assert normalize_id_number(raw) == normal


@pytest.mark.parametrize("raw", [
    "110105194912310021",  # wrong check digit
    "440524188001010015",  # wrong check digit
    "11010519491231002",  # 17 characters
    "110105491231002",  # the old 15-digit form
    "1101051949123100X2", "11010519491231002Y", "", "abc",
])
def test_invalid_id_numbers(raw: str) -> None:
    with pytest.raises(FormatError):
        normalize_id_number(raw)


@pytest.mark.parametrize(("raw", "normal"), [
    ("ＡＢＣ科技有限公司", "ABC科技有限公司"),
    ("  深圳  华星\u3000科技 ", "深圳 华星 科技"),
    ("Acme\tTrading\nLtd", "Acme Trading Ltd"),
    ("（深圳）华星", "(深圳)华星"),
    ("", ""),
])
def test_names_are_half_width_with_single_spaces(raw: str, normal: str) -> None:
    assert normalize_name(raw) == normal


# --- field encryption ----------------------------------------------------------------------
KEY = bytes(range(32))


def test_encryption_round_trip_and_fresh_ciphertext() -> None:
    cipher = FieldCipher(KEY)
    for plain in ("+8613812345678", "11010519491231002X", "中文 ✓"):
        a, b = cipher.encrypt(plain), cipher.encrypt(plain)
        assert a != b  # a random nonce each time: equal values don't look equal at rest
        assert plain not in (a or "")
        assert cipher.decrypt(a) == cipher.decrypt(b) == plain
    assert cipher.encrypt(None) is None and cipher.encrypt("") is None
    assert cipher.decrypt(None) is None and cipher.decrypt("") is None


def test_ciphertext_is_bound_to_its_key_and_tamper_evident() -> None:
    token = FieldCipher(KEY).encrypt("+8613812345678") or ""
    with pytest.raises(InvalidTag):
        FieldCipher(os.urandom(32)).decrypt(token)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(InvalidTag):
        FieldCipher(KEY).decrypt(tampered)
    with pytest.raises(ValueError, match="not an encrypted"):
        FieldCipher(KEY).decrypt("13812345678")


def test_blind_index_is_stable_per_key() -> None:
    a, b = FieldCipher(KEY), FieldCipher(KEY)
    idx = a.blind_index("+8613812345678")
    assert idx == b.blind_index("+8613812345678") == a.blind_index("+8613812345678")
    assert idx and "13812345678" not in idx
    assert a.blind_index("+8613812345679") != idx
    assert FieldCipher(os.urandom(32)).blind_index("+8613812345678") != idx
    assert a.blind_index(None) is None and a.blind_index("") is None


def test_keys_are_checked_and_never_shown() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher(b"short")
    assert KEY.hex() not in repr(FieldCipher(KEY))
    assert "hidden" in repr(FieldCipher(KEY))
