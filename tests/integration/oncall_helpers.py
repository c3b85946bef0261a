"""A local HTTP receiver that can be down and come back, and lifecycle events for the on-call tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "whsec_" + base64.b64encode(b"buzzwatch-test-secret").decode()


class Receiver:
    """Answers 503 while ``down``, else 200 and records (headers, JSON body) in arrival order."""

    def __init__(self, down: bool = False):
        self.down = down
        self.received: list[tuple[dict, dict]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.down:
                    receiver.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict]:
        """The signed JSON deliveries' events, after checking each signature."""
        out = []
        for headers, body in self.received:
            key = base64.b64decode(SECRET.removeprefix("whsec_"))
            signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
            expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
            assert headers["webhook-signature"] == expected
            out.append(json.loads(body)["data"])
        return out


def lifecycle(kind: str, *, brand: str = "Acme", onset: str = "2026-11-06T20:00:00Z", detected: str,
              severity: str = "warning", text: str = "Acme lost my parcel again") -> dict:
    return {
        "alert_id": f"{brand}:{onset}", "brand": brand, "event": kind, "severity": severity,
        "detected_at": detected, "onset_at": onset, "score": 4.2,
        "evidence": {
            "why": "61.0 mentions/min vs 6.5 expected (9.4x) over 5 min; negative share 82% vs usual 20%",
            "observed_per_min": 61.0, "expected_per_min": 6.5, "negative_share": 0.82, "expected_negative_share": 0.2,
            "reach": 120000,
            "top_negative": [{"text": text, "url": "https://x/1", "author": "bob", "followers": 90000, "compound": -0.8,
                              "created_at_ms": 0, "id": "m1"}],
            "emerging_terms": [{"term": "#acmefail", "lift": 12.0, "hashtag": True}],
            "top_authors": [{"author": "bob", "followers": 90000}],
            "playbook": ["Acknowledge publicly, fast", "Move the conversation to private messages"],
            "response_deadline": "2026-11-07T20:00:00Z",
            "grafana_url": "http://127.0.0.1:3000/d/buzzwatch-brand?var-brand=Acme",
        },
    }
