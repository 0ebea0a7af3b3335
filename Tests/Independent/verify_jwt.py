"""Verifies a JWT against a JWKS with joserfc, an implementation independent of Tessera's.

Usage: verify_jwt.py JWKS_FILE JWT AUDIENCE (empty: none expected)
Prints "ok SUB SID KID" or "fail REASON" and exits 0 or 1.
"""
import json
import sys

from joserfc import jwt
from joserfc.jwk import KeySet

jwks_file, token, audience = sys.argv[1], sys.argv[2], sys.argv[3]
with open(jwks_file) as f:
    key_set = KeySet.import_key_set(json.load(f))
try:
    decoded = jwt.decode(token, key_set, algorithms=["EdDSA"])
    claims = {"iss": {"essential": True, "value": "tessera"}, "exp": {"essential": True}, "sub": {"essential": True}}
    if audience:  # an empty AUDIENCE: the server has none, and the JWT must carry none
        claims["aud"] = {"essential": True, "value": audience}
    elif "aud" in decoded.claims:
        raise ValueError("unexpected aud")
    jwt.JWTClaimsRegistry(**claims).validate(decoded.claims)
except Exception as error:  # noqa: BLE001 - any failure is the answer
    print(f"fail {type(error).__name__}: {error}")
    sys.exit(1)
print(f"ok {decoded.claims['sub']} {decoded.claims['sid']} {decoded.header['kid']}")
