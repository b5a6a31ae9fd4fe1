"""argon2id password hashing and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

#: The most common passwords (from public breach lists); all refused whatever their length.
COMMON_PASSWORDS = frozenset("""
123456 123456789 12345678 password qwerty123 qwerty1 111111 12345 1234567 qwerty 1234567890
000000 password1 abc123 iloveyou 123123 654321 qwertyuiop 123321 666666 7777777 1q2w3e4r
987654321 password123 1qaz2wsx zaq12wsx 11111111 88888888 sunshine princess football
monkey dragon letmein baseball welcome shadow superman michael trustno1 passw0rd
whatever starwars master hello123 freedom charlie aa123456 donald 1q2w3e4r5t qazwsxedc
login admin admin123 administrator changeme secret welcome1 password12 iloveyou1 abcd1234
abcdefgh 12341234 asdfghjk asdfasdf zxcvbnm1 q1w2e3r4 1234qwer qwer1234 00000000 99999999
12121212 11223344 987654321 passpass pa55word p@ssw0rd p@ssword letmein1 sunshine1
""".split())


class PasswordPolicyError(ValueError):
    pass


def check_policy(password: str) -> None:
    if len(password) < 8:
        raise PasswordPolicyError("must be at least 8 characters")
    if len(password) > 256:
        raise PasswordPolicyError("must be at most 256 characters")
    if password.lower() in COMMON_PASSWORDS:
        raise PasswordPolicyError("is one of the most common passwords; choose another")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        dummy_verify(password)  # spend the same time as a real check
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


#: A valid hash to verify against when the account does not exist (constant-time-ish login).
DUMMY_HASH = None


def dummy_verify(password: str) -> None:
    global DUMMY_HASH
    if DUMMY_HASH is None:
        DUMMY_HASH = _hasher.hash("not a real password, only for timing")
    verify_password(DUMMY_HASH, password)
