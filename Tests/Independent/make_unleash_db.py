"""Fills an Unleash database (the tables of unleash_schema.sql) as Unleash itself would have:
bcrypt hashes as bcryptjs writes them (`$2a$` before its 2025 upgrade, `$2b$` after; made by
PyPI's bcrypt), root roles, browser sessions as express-session and connect-session-knex store
them, and personal access tokens of both generations.

Usage: make_unleash_db.py SQL_OUTPUT SESSION_SECRET
Writes the INSERT statements to SQL_OUTPUT and prints, as JSON, what Unleash's users hold: their
passwords, the `unleash-session` cookie a browser sends (signed with SESSION_SECRET as the
cookie-signature package signs it, then URL-encoded), and their personal access tokens.
"""
import base64
import hashlib
import hmac
import json
import secrets
import sys
import urllib.parse

import bcrypt

output, secret = sys.argv[1], sys.argv[2]


def quote(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def bcryptjs(password, variant):
    made = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    return variant + made[4:]  # $2a$ and $2b$ differ in name only for passwords this short


def cookie(sid):
    """cookie-signature's sign(): value.base64(HMAC-SHA256(value, secret)) without '=', as
    express-session sets it ('s:' + signed), URL-encoded by the cookie package."""
    mac = base64.b64encode(hmac.new(secret.encode(), sid.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    return urllib.parse.quote("s:" + sid + "." + mac, safe="")


statements = []
held = {"passwords": {}, "sessions": {}, "tokens": {}}
users = [
    # id, username, email, name, password, variant, root role, deleted, service
    (1, "admin", "admin@example.com", "Ada Admin", "admin pass", "$2a$", "Admin", False, False),
    (2, None, "editor@example.com", "Ed Editor", "editor pass", "$2b$", "Editor", False, False),
    (3, "gone", "gone@example.com", "Gone User", "gone pass", "$2b$", "Viewer", True, False),
    (4, "ci-bot", None, "CI", None, None, "Editor", False, True),
    (5, "sso-only", "sso@example.com", "Single Sign-On", None, None, "Viewer", False, False),
]
for uid, username, email, name, password, variant, role, deleted, service in users:
    hashed = bcryptjs(password, variant) if password else None
    statements.append(
        "INSERT INTO users (id, name, username, email, password_hash, created_at, deleted_at, is_service) VALUES "
        f"({uid}, {quote(name)}, {quote(username)}, {quote(email)}, {quote(hashed)}, '2023-01-02 03:04:05', "
        f"{'now()' if deleted else 'NULL'}, {quote(service)});")
    statements.append(f"INSERT INTO role_user (role_id, user_id) SELECT id, {uid} FROM roles WHERE name = {quote(role)} AND type = 'root';")
    if password:
        held["passwords"][username or email] = password
statements.append("SELECT setval('users_id_seq', 5);")


def session(name, uid, expires):
    sid = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
    sess = {"cookie": {"originalMaxAge": 172800000, "expires": "2030-01-01T00:00:00.000Z", "secure": False, "httpOnly": True,
                       "path": "/", "sameSite": "lax"}, "user": {"id": uid, "username": name}}
    statements.append(f"INSERT INTO unleash_session (sid, sess, created_at, expired) VALUES ({quote(sid)}, {quote(json.dumps(sess))}, now() - interval '1 hour', {expires});")
    held["sessions"][name] = cookie(sid)


session("admin", 1, "now() + interval '2 days'")
session("editor", 2, "now() + interval '2 days'")
session("admin-expired", 1, "now() - interval '1 hour'")
session("gone", 3, "now() + interval '2 days'")

legacy = "user:" + secrets.token_hex(16)
statements.append(f"INSERT INTO personal_access_tokens (secret, description, user_id, expires_at) VALUES ({quote(legacy)}, 'deploy script', 1, now() + interval '30 days');")
held["tokens"]["legacy"] = legacy
selector = base64.urlsafe_b64encode(secrets.token_bytes(12)).decode().rstrip("=")
v2 = "user:v2_" + selector + "_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
verifier = base64.urlsafe_b64encode(hashlib.sha256(v2.encode()).digest()).decode().rstrip("=")
statements.append(
    "INSERT INTO personal_access_tokens (selector, verifier, description, user_id, expires_at) VALUES "
    f"({quote(selector)}, {quote(verifier)}, 'terraform', 2, now() + interval '30 days');")
held["tokens"]["v2"] = v2
expired = "user:" + secrets.token_hex(16)
statements.append(f"INSERT INTO personal_access_tokens (secret, description, user_id, expires_at, created_at) VALUES ({quote(expired)}, 'old', 1, now() - interval '1 day', now() - interval '40 days');")
held["tokens"]["expired"] = expired

with open(output, "w") as sql:
    sql.write("\n".join(statements) + "\n")
json.dump(held, sys.stdout)
