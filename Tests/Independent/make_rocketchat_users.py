"""Writes Rocket.Chat's users collection as `mongoexport --collection users` does, with password
hashes made as Meteor's accounts-password makes them (bcrypt or argon2id of the lower-case hex
SHA-256 of the password) by PyPI's bcrypt and argon2-cffi.

Usage: make_rocketchat_users.py OUTPUT lines|array
`lines`: one document a line, relaxed Extended JSON (mongoexport's default); `array`: one JSON
array, canonical Extended JSON (`--jsonArray --jsonFormat=canonical`). The last two documents
are malformed (no username; a createdAt that is no date).

alice has, as Meteor keeps them (`hashedToken` = Base64 of SHA-256 of the token), a login token
of yesterday, one of 100 days ago (expired under the default 90-day login expiration), a
personal access token and one without a `hashedToken`; her TOTP secret and two backup codes
(`hashedBackup`: SHA-256 hex). Prints, as JSON, what her apps hold: the tokens and codes.
"""
import base64
import hashlib
import json
import secrets
import sys
import time

import argon2
import bcrypt


def digest(password):
    return hashlib.sha256(password.encode()).hexdigest()


canonical = sys.argv[2] == "array"


def date(milliseconds):
    if canonical:
        return {"$date": {"$numberLong": str(milliseconds)}}
    from datetime import datetime, timezone
    text = datetime.fromtimestamp(milliseconds / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {"$date": text}


def random_id(length):
    """Meteor's Random.id alphabet (what Rocket.Chat's tokens and backup codes are made of)."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def hashed(token):
    return base64.b64encode(hashlib.sha256(token.encode()).digest()).decode()


now = int(time.time() * 1000)
day = 86_400_000
held = {
    "authToken": random_id(43), "expiredToken": random_id(43), "personalAccessToken": random_id(43),
    "backupCodes": [random_id(8), random_id(8)],
}
argon2id = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=argon2.Type.ID)
documents = [
    {
        "_id": "aLiCe1234567890ab", "username": "alice", "name": "Alice", "type": "user", "active": True,
        "roles": ["user", "admin"], "createdAt": date(1672628645123),
        "emails": [{"address": "alice@example.com", "verified": True}],
        "services": {
            "password": {"bcrypt": bcrypt.hashpw(digest("alice pass").encode(), bcrypt.gensalt(4)).decode()},
            "totp": {"enabled": True, "secret": "JBSWY3DPEHPK3PXPJBSWY3DP", "hashedBackup": [digest(code) for code in held["backupCodes"]]},
            "resume": {"loginTokens": [
                {"when": date(now - day), "hashedToken": hashed(held["authToken"])},
                {"when": date(now - 100 * day), "hashedToken": hashed(held["expiredToken"])},
                {"type": "personalAccessToken", "name": "ci", "hashedToken": hashed(held["personalAccessToken"]),
                 "lastTokenPart": held["personalAccessToken"][-6:], "createdAt": date(now - 10 * day), "bypassTwoFactor": True},
                {"when": date(now - day), "token": "an unhashed token of a very old Meteor"},
            ]},
        },
    },
    {
        "_id": "bOb4567890abcdefg", "username": "bob", "type": "user", "active": True, "roles": ["user"],
        "createdAt": date(1672628645000), "emails": [{"address": "bob@example.com", "verified": False}],
        "services": {"password": {"argon2": argon2id.hash(digest("bob pass"))}},
    },
    {
        "_id": "cArOl67890abcdefg", "username": "carol", "type": "user", "active": False, "roles": ["user"],
        "createdAt": date(1672628645000), "services": {"password": {"bcrypt": bcrypt.hashpw(digest("carol pass").encode(), bcrypt.gensalt(4)).decode()}},
    },
    {
        "_id": "dAvE67890abcdefgh", "username": "dave", "type": "user", "active": True, "roles": ["user"],
        "createdAt": date(1672628645000), "services": {"password": {"bcrypt": bcrypt.hashpw(digest("dave pass").encode(), bcrypt.gensalt(4)).decode()}},
    },
    {"_id": "rocket.cat", "username": "rocket.cat", "name": "Rocket.Cat", "type": "bot", "active": True, "roles": ["bot"], "createdAt": date(1672628645000)},
    {"_id": "noName1234567890a", "type": "user", "active": True, "createdAt": date(1672628645000)},
    {"_id": "badDate1234567890", "username": "baddate", "type": "user", "active": True, "createdAt": "2023-01-02"},
]
with open(sys.argv[1], "w") as output:
    if canonical:
        json.dump(documents, output)
    else:
        for document in documents:
            output.write(json.dumps(document) + "\n")
json.dump(held, sys.stdout)
