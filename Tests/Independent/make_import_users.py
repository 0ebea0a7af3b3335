"""Writes a file for `tessera import users` with password hashes made by implementations
independent of Tessera's: PyPI's bcrypt, passlib and argon2-cffi.

Usage: make_import_users.py OUTPUT
Writes one user per scheme, named after it, whose password is "pw-" + its name, one user with a
TOTP secret, then the malformed records the import must report and skip. Prints the good users
as JSON ({"username": password}) on standard output.
"""
import hashlib
import json
import sys

import argon2
import bcrypt
from passlib.hash import django_pbkdf2_sha256, md5_crypt, pbkdf2_sha256, sha256_crypt, sha512_crypt

argon2id = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=argon2.Type.ID)
argon2i = argon2.PasswordHasher(time_cost=2, memory_cost=64, parallelism=1, type=argon2.Type.I)


def sha256_hex(password):
    return hashlib.sha256(password.encode()).hexdigest().encode()


schemes = {
    "bcrypt-2b": lambda p: bcrypt.hashpw(p.encode(), bcrypt.gensalt(4)).decode(),
    "bcrypt-2a": lambda p: bcrypt.hashpw(p.encode(), bcrypt.gensalt(4, prefix=b"2a")).decode(),
    # PHP's $2y$ is the $2b$ algorithm under another name (passlib's own bcrypt backend breaks
    # with bcrypt 5): the $2b$ hash's salt and digest.
    "bcrypt-2y": lambda p: "$2y$" + bcrypt.hashpw(p.encode(), bcrypt.gensalt(4)).decode()[4:],
    "sha256crypt": lambda p: sha256_crypt.using(rounds=1000).hash(p),
    "sha512crypt": lambda p: sha512_crypt.using(rounds=1000).hash(p),
    "pbkdf2-passlib": lambda p: pbkdf2_sha256.using(rounds=1000).hash(p),
    "pbkdf2-django": lambda p: django_pbkdf2_sha256.using(rounds=1000).hash(p),
    "argon2id": lambda p: argon2id.hash(p),
    "argon2i": lambda p: argon2i.hash(p),
    "meteor-bcrypt": lambda p: "sha256-hex:" + bcrypt.hashpw(sha256_hex(p), bcrypt.gensalt(4)).decode(),
    "meteor-argon2id": lambda p: "sha256-hex:" + argon2id.hash(sha256_hex(p).decode()),
}

good = {}
lines = []
for index, (name, make) in enumerate(schemes.items()):
    password = "pw-" + name
    good[name] = password
    record = {"username": name, "password_hash": make(password), "external_id": 1000 + index}
    if name == "bcrypt-2b":
        record.update({
            "email": "b2b@example.com", "name": "B. Two", "roles": ["admin"], "created_at": "2021-03-04T05:06:07.089Z",
            "settings": {"theme": "dark"}, "totp": {"secret": "JBSWY3DPEHPK3PXPJBSWY3DP", "algorithm": "SHA1", "digits": 6},
        })
    lines.append(json.dumps(record))

lines.append('{"username": "truncated", "password_hash": "$2b$04$abc')
lines.append(json.dumps({"username": "md5user", "password_hash": md5_crypt.hash("pw-md5")}))
lines.append(json.dumps({"username": "bcrypt-2b", "password_hash": bcrypt.hashpw(b"other", bcrypt.gensalt(4)).decode()}))
lines.append(json.dumps({"username": "baddate", "password_hash": argon2id.hash("x"), "created_at": "04/03/2021"}))
lines.append(json.dumps({"username": "huge", "name": "x" * (10 * 1024 * 1024)}))
# A key twice: which of the two a reader keeps is not defined, so the record is refused.
lines.append('{"username": "twice", "password_hash": "%s", "username": "bcrypt-2b"}' % argon2id.hash("x"))

with open(sys.argv[1], "w") as output:
    output.write("\n".join(lines) + "\n")
print(json.dumps(good))
