"""Computes TOTP codes with pyotp, an implementation independent of Tessera's.

Usage: totp_codes.py OTPAUTH_URI UNIX_TIME...
Reads the secret, algorithm, digits and period from the otpauth:// URI as an authenticator app
does, and prints the code at each time, one per line.
"""
import sys

import pyotp

totp = pyotp.parse_uri(sys.argv[1])
for moment in sys.argv[2:]:
    print(totp.at(int(moment)))
