# A resource server in Python (Debian's python3-jwt): it trusts an issuer through its OpenID
# Connect discovery and JWKS, as a service in a docker-compose file next to
# `oauth-jwt-verify issuer` would. Usage: resource_server.py <issuer> <audience>; prints its
# port on the first line, then answers GET / with the token's claims (200) or 401.
import json
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

issuer, audience = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(issuer.rstrip("/") + "/.well-known/openid-configuration") as response:
    metadata = json.load(response)
assert metadata["issuer"] == issuer, "the metadata names another issuer"
keys = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        header = self.headers.get("Authorization", "")
        try:
            if not header.startswith("Bearer "):
                raise jwt.InvalidTokenError("no bearer token")
            token = header[len("Bearer "):]
            key = keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token, key.key, algorithms=["RS256", "ES256", "PS256", "EdDSA"], audience=audience, issuer=issuer
            )
            self.answer(200, {"sub": claims["sub"], "iss": claims["iss"], "kid": key.key_id})
        except (jwt.PyJWTError, ValueError) as error:
            self.answer(401, {"error": "invalid_token", "reason": type(error).__name__})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
