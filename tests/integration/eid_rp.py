#!/usr/bin/python3
"""An OpenID Connect relying party (python3-authlib, PKCE S256) logging in through the gateway's
eID connector, with pysaml2 (tests/connectors/eid/pysaml2_node.py) as the eIDAS node, browser-less
over real HTTP; the ID token is verified against /oidc/jwks with python3-jwcrypto.

  eid_rp.py GATEWAY_URL ISSUER NODE_DIR SP_METADATA [--node NODE_SCRIPT] [respond options...]
  (NODE_SCRIPT: pysaml2_node.py by default, or lasso_node.py; same command line)
Prints one JSON object: {"claims": ..., "userinfo": ..., "kid": ...} or {"error": ...}.
"""
import html
import json
import re
import subprocess
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from jwcrypto import jwk, jwt

gw, issuer, node_dir, sp_md = sys.argv[1:5]
extra = sys.argv[5:]
node = __file__.rsplit("/", 2)[0] + "/connectors/eid/pysaml2_node.py"
if extra[:1] == ["--node"]:
    node, extra = extra[1], extra[2:]
redirect = "http://127.0.0.1:9/cb"

disc = requests.get(gw + "/.well-known/openid-configuration", timeout=10).json()
assert disc["issuer"] == issuer, disc
rp = OAuth2Session("spa", redirect_uri=redirect, scope="openid profile",
                   code_challenge_method="S256")
verifier = generate_token(48)
nonce = generate_token(16)
url, state = rp.create_authorization_url(gw + "/oidc/authorize", code_verifier=verifier,
                                         nonce=nonce,
                                         acr_values="http://eidas.europa.eu/LoA/substantial")
page = requests.get(url, allow_redirects=False, timeout=10)
m = re.search(r'name="SAMLRequest" value="([^"]+)"', page.text)
if page.status_code != 200 or not m:
    print(json.dumps({"error": "no AuthnRequest form", "status": page.status_code}))
    sys.exit(0)
saml_request = html.unescape(m.group(1))
out = subprocess.run(["/usr/bin/python3", node, "respond", node_dir, sp_md, saml_request] + extra,
                     check=True, capture_output=True, text=True).stdout.strip()
acs = requests.post(gw + "/eid/acs", data={"SAMLResponse": out}, allow_redirects=False,
                    timeout=10)
if acs.status_code != 302:
    print(json.dumps({"error": "acs refused", "status": acs.status_code}))
    sys.exit(0)
location = acs.headers["Location"]
token = rp.fetch_token(gw + "/oidc/token", authorization_response=location,
                       code_verifier=verifier, state=state)
keys = jwk.JWKSet.from_json(requests.get(gw + "/oidc/jwks", timeout=10).text)
t = jwt.JWT(jwt=token["id_token"], key=keys, algs=["ES256"],
            check_claims={"iss": issuer, "aud": "spa", "exp": None, "nonce": nonce})
claims = json.loads(t.claims)
ui = requests.get(gw + "/oidc/userinfo", timeout=10,
                  headers={"Authorization": "Bearer " + token["access_token"]}).json()
replay = requests.post(gw + "/oidc/token", timeout=10, data={
    "grant_type": "authorization_code", "client_id": "spa", "redirect_uri": redirect,
    "code_verifier": verifier,
    "code": re.search(r"code=([^&]+)", location).group(1)})
print(json.dumps({"claims": claims, "userinfo": ui, "kid": json.loads(t.header)["kid"],
                  "replay_status": replay.status_code, "replay": replay.json()}))
