"""Who is calling, for a Python service behind the BFF: the BFF's identity token,
verified offline against its published keys with PyJWT (Debian: python3-jwt).

    python3 identity.py BFF_URL PUBLIC_URL AUDIENCE TOKEN

prints the token's claims as JSON, or the reason it was refused (exit status 1).
"""

import json
import sys

import jwt  # PyJWT 2.x, with the cryptography package for EdDSA


def verifier(bff_url, public_url, audience):
    """A function from an `Authorization` header to the caller's claims."""
    keys = jwt.PyJWKClient(f"{bff_url}/.well-known/jwks.json")

    def caller(authorization):
        token = authorization.removeprefix("Bearer ")
        key = keys.get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key.key,
            algorithms=["EdDSA"],
            audience=audience,
            issuer=public_url,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )

    return caller


if __name__ == "__main__":
    bff_url, public_url, audience, token = sys.argv[1:5]
    try:
        claims = verifier(bff_url, public_url, audience)(f"Bearer {token}")
    except jwt.PyJWTError as refused:
        print(f"refused: {refused!r}")
        sys.exit(1)
    print(json.dumps(claims))
