#!/usr/bin/python3
"""An offline fake of the Google Cloud Storage JSON API, enough for a model repository, for the
cloud-storage end-to-end tests (Debian's python3 + python3-cryptography only):
  GET  /storage/v1/b/{bucket}/o?prefix=P&delimiter=D&pageToken=T&maxResults=N   (objects.list)
  GET  /storage/v1/b/{bucket}/o/{urlencoded-object}[?alt=media]                 (metadata / bytes)
  POST /token   OAuth2 jwt-bearer grant: with --public-key the assertion's RS256 signature, iss,
                aud and exp are verified and a random access token is issued
  GET  /_stats  {"token_requests": n, "media_requests": n}
With --public-key every storage request needs "Authorization: Bearer <issued token>" (else 401).
Objects are the files under ROOT/bucket/. --page-size caps a list page; --throttle (bytes/s) slows
media downloads (to stop the server in the middle of one)."""
import argparse
import base64
import hashlib
import json
import os
import secrets
import socketserver
import threading
import time
import urllib.parse
import http.server

ap = argparse.ArgumentParser()
ap.add_argument('--host', default='127.0.0.1')
ap.add_argument('--port', type=int, default=4443)
ap.add_argument('--root', default='fake-gcs-data')
ap.add_argument('--public-key', help='PEM public key of the service account; enables OAuth2 checks')
ap.add_argument('--client-email', default='ovms-test@example.iam.gserviceaccount.com')
ap.add_argument('--token-lifetime', type=int, default=3600)
ap.add_argument('--page-size', type=int, default=1000)
ap.add_argument('--throttle', type=int, default=0)
ap.add_argument('--fail-media', type=int, default=0, help='answer the first N media downloads with 503')
ap.add_argument('--stall-over', type=int, default=0,
                help='objects larger than this many bytes: send half, then nothing (a hung server)')
A = ap.parse_args()

tokens = {}  # token -> expiry (epoch seconds)
stats = {"token_requests": 0, "media_requests": 0}
lock = threading.Lock()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def verify_assertion(jwt, audience):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    head, claims, sig = jwt.split('.')
    with open(A.public_key, 'rb') as f:
        key = serialization.load_pem_public_key(f.read())
    key.verify(b64url_decode(sig), (head + '.' + claims).encode(), padding.PKCS1v15(), hashes.SHA256())
    h, c = json.loads(b64url_decode(head)), json.loads(b64url_decode(claims))
    assert h.get('alg') == 'RS256', 'alg'
    assert c.get('iss') == A.client_email, 'iss'
    assert c.get('aud') == audience, 'aud'
    assert 'devstorage' in c.get('scope', ''), 'scope'
    now = time.time()
    assert c['iat'] - 300 <= now <= c['exp'] + 300, 'time'


def meta(bucket, name):
    p = os.path.join(A.root, bucket, name)
    st = os.stat(p)
    return {"kind": "storage#object", "bucket": bucket, "name": name, "size": str(st.st_size),
            "generation": str(st.st_mtime_ns), "md5Hash": base64.b64encode(hashlib.md5(
                str(st.st_mtime_ns).encode() + str(st.st_size).encode()).digest()).decode()}


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def send(self, code, body=b'', ctype='application/json'):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def err(self, code, msg):
        self.send(code, {"error": {"code": code, "message": msg}})

    def authorized(self):
        if not A.public_key:
            return True
        auth = self.headers.get('Authorization', '')
        with lock:
            exp = tokens.get(auth[len('Bearer '):]) if auth.startswith('Bearer ') else None
        if exp is None or exp < time.time():
            self.err(401, 'Invalid Credentials')
            return False
        return True

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        if u.path != '/token':
            return self.err(404, 'unsupported')
        with lock:
            stats["token_requests"] += 1
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get('grant_type') != 'urn:ietf:params:oauth:grant-type:jwt-bearer':
            return self.send(400, {"error": "unsupported_grant_type"})
        if A.public_key:
            try:
                verify_assertion(form.get('assertion', ''), f"http://{A.host}:{A.port}/token")
            except Exception as e:  # noqa: BLE001 - any defect is an invalid grant
                return self.send(400, {"error": "invalid_grant", "error_description": f"bad assertion: {e!r}"[:200]})
        token = 'ya29.' + secrets.token_urlsafe(24)
        with lock:
            tokens[token] = time.time() + A.token_lifetime
        self.send(200, {"access_token": token, "expires_in": A.token_lifetime, "token_type": "Bearer"})

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == '/_stats':
            with lock:
                return self.send(200, dict(stats))
        if not self.authorized():
            return
        parts = u.path.split('/', 6)  # ['', 'storage', 'v1', 'b', bucket, 'o', object]
        if len(parts) < 6 or parts[1:4] != ['storage', 'v1', 'b'] or parts[5] != 'o':
            return self.err(404, 'unsupported')
        bucket = parts[4]
        broot = os.path.join(A.root, bucket)
        if not os.path.isdir(broot):
            return self.err(404, 'The specified bucket does not exist.')
        if len(parts) == 7 and parts[6]:
            name = urllib.parse.unquote(parts[6])
            p = os.path.join(broot, name)
            if not os.path.isfile(p):
                return self.err(404, 'No such object: %s/%s' % (bucket, name))
            if q.get('alt') != 'media':
                return self.send(200, meta(bucket, name))
            with lock:
                stats["media_requests"] += 1
                fail = stats["media_requests"] <= A.fail_media
            if fail:
                return self.err(503, 'Backend Error')
            return self.send_file(p)
        prefix, delim = q.get('prefix', ''), q.get('delimiter', '')
        names = sorted(os.path.relpath(os.path.join(d, f), broot) for d, _, fs in os.walk(broot) for f in fs
                       if not f.endswith('.uploading'))
        entries = []  # objects and prefixes in name order, paged together as GCS does
        seen = set()
        for n in names:
            if not n.startswith(prefix):
                continue
            rest = n[len(prefix):]
            if delim and delim in rest:
                p = prefix + rest.split(delim, 1)[0] + delim
                if p not in seen:
                    seen.add(p)
                    entries.append(('p', p))
            else:
                entries.append(('o', n))
        start = int(q.get('pageToken', 0))
        size = min(A.page_size, int(q.get('maxResults', 1000)))
        page = entries[start:start + size]
        out = {"kind": "storage#objects", "items": [meta(bucket, n) for k, n in page if k == 'o']}
        pfx = [n for k, n in page if k == 'p']
        if pfx:
            out["prefixes"] = pfx
        if start + size < len(entries):
            out["nextPageToken"] = str(start + size)
        self.send(200, out)

    def send_file(self, p):
        size = os.path.getsize(p)
        start, end = 0, size - 1
        rng = self.headers.get('Range', '')
        if rng.startswith('bytes='):
            a, _, b = rng[len('bytes='):].partition('-')
            start, end = int(a), min(int(b) if b else size - 1, size - 1)
            self.send_response(206)
            self.send_header('Content-Range', f'bytes {start}-{end}/{size}')
        else:
            self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(end - start + 1))
        self.end_headers()
        chunk = 64 * 1024
        left = end - start + 1
        stall_at = (end - start + 1) // 2 if A.stall_over and size > A.stall_over else -1
        with open(p, 'rb') as f:
            f.seek(start)
            while left > 0:
                data = f.read(min(chunk, left))
                left -= len(data)
                if not data:
                    break
                self.wfile.write(data)
                if stall_at >= 0 and end - start + 1 - left >= stall_at:
                    self.wfile.flush()
                    time.sleep(3600)  # hung: the client must give up by itself
                if A.throttle:
                    time.sleep(len(data) / A.throttle)

    def log_message(self, *a):
        pass


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


os.makedirs(A.root, exist_ok=True)
print(f"fake-gcs listening on http://{A.host}:{A.port} root={A.root}", flush=True)
S((A.host, A.port), H).serve_forever()
