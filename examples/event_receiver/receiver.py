"""Receive the CRM's forwarded events and verify their signatures (standard library only).

    python receiver.py --port 8765 --secret s3cret --out events.jsonl

Accepted events (valid HMAC-SHA256 signature, timestamp within 5 minutes, JSON body) are
appended to ``--out`` as JSON lines and answered 204; an event id seen before is answered 204
again but not stored twice; anything else gets 401 (bad signature) or 400 (bad body).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crm_event_forwarder.signing import verify

MAX_BODY = 1_000_000


def make_handler(secret: str, out: Path) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()
    seen: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                return self._answer(400, "body missing or too large")
            body = self.rfile.read(length)
            if not verify(secret, self.headers.get("X-CRM-Timestamp"), body,
                          self.headers.get("X-CRM-Signature")):
                return self._answer(401, "bad or stale signature")
            try:
                event = json.loads(body)
            except ValueError:
                return self._answer(400, "not JSON")
            with lock:
                key = str(event.get("id"))
                if key not in seen:
                    seen.add(key)
                    with out.open("a", encoding="utf-8") as fh:
                        fh.write(json.dumps(event, ensure_ascii=False) + "\n")
            print(f"event {event.get('id')} {event.get('name')} verified", flush=True)
            return self._answer(204, "")

        def _answer(self, status: int, message: str) -> None:
            data = message.encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # keep stderr for errors
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Receive and verify Mosaic CRM events")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--out", type=Path, default=Path("events.jsonl"))
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.secret, args.out))
    print(f"listening on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
