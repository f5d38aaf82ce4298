#!/usr/bin/env python3
"""bench/floor.py: the floor, the API server's own limit for postcheck's gather pass.

Replays a plan from bench/floor-plan.sh (which `postcheck floor-plan` records from a real
gathering pass, so it cannot drift from the engine): every chain at once, one thread and
one kept-alive HTTPS connection per chain (as kube-rs keeps its connections), each chain's
requests one after the other on that connection, each list paged with its continue token
at the plan's page size. HTTP/1.1 like kube-rs, no compression (kube-rs without its gzip
feature sends no Accept-Encoding; http.client sends `identity`). Bodies are read in full
and discarded: only a page's first bytes are kept, to read its continue token.

The user agent is not curl's or Python's default: the API server pretty-prints JSON for
curl, which would double the bytes and its work.

Usage: bench/floor.py SERVER TOKEN CAFILE PLAN [--counts FILE]
  --counts FILE  writes the requests sent, `VERB PATH COUNT` a line (every page counted),
                 to compare with what postcheck sent (the API server's metrics).
Exits 1 when any request fails (a status other than 200, or 404 to a GET; or a broken
connection).
"""

import argparse
import collections
import http.client
import re
import ssl
import sys
import threading
import urllib.parse

META_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
ACCEPT = {"GET": "application/json, */*", "LIST": "application/json", "MLIST": META_ACCEPT}
CONTINUE = re.compile(rb'"continue":"([^"]*)"')
CHUNK = 1 << 16
# The continue token sits in the list's metadata, at the start of the body.
HEAD = 4096


def read_plan(path):
    chains = collections.OrderedDict()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            chain, verb, target, size = line.split("\t")
            chains.setdefault(chain, []).append((verb, target, int(size)))
    return chains


def page_target(target, size, token):
    sep = "&" if "?" in target else "?"
    query = f"limit={size}"
    if token:
        query += "&continue=" + urllib.parse.quote(token, safe="")
    return f"{target}{sep}{query}"


class Chain(threading.Thread):
    def __init__(self, name, steps, host, port, context, token):
        super().__init__(name=name, daemon=True)
        self.steps, self.host, self.port, self.context = steps, host, port, context
        self.headers = {"Authorization": f"Bearer {token}", "User-Agent": "postcheck-bench-floor"}
        self.counts = collections.Counter()
        self.error = None
        self.buffer = bytearray(CHUNK)

    def request(self, conn, verb, target):
        """Sends one request on the kept-alive connection; the body's first bytes."""
        headers = dict(self.headers, Accept=ACCEPT[verb])
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        head = bytearray()
        view = memoryview(self.buffer)
        while True:
            n = response.readinto(view)
            if not n:
                break
            if len(head) < HEAD:
                head += view[: min(n, HEAD - len(head))]
        self.counts[(verb, target.split("?")[0])] += 1
        # A group version no longer served answers 404: the removed-API chain asks for
        # exactly such versions, and so does the engine (it reads 404 as "not served").
        if response.status == 404 and verb == "GET":
            return bytes(head)
        if response.status != 200:
            raise RuntimeError(f"{verb} {target}: HTTP {response.status}: {bytes(head[:300])!r}")
        return bytes(head)

    def run(self):
        try:
            conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=900)
            for verb, target, size in self.steps:
                if verb == "GET":
                    self.request(conn, verb, target)
                    continue
                token = None
                while True:
                    head = self.request(conn, verb, page_target(target, size, token))
                    found = CONTINUE.search(head)
                    token = found.group(1).decode() if found and found.group(1) else None
                    if not token:
                        break
            conn.close()
        except Exception as e:  # reported by main, which exits 1
            self.error = f"chain {self.name}: {e}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("server")
    parser.add_argument("token")
    parser.add_argument("cafile")
    parser.add_argument("plan")
    parser.add_argument("--counts")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.server)
    if url.scheme != "https":
        sys.exit(f"floor.py: the server must be https://, not {args.server}")
    context = ssl.create_default_context(cafile=args.cafile)
    chains = [
        Chain(name, steps, url.hostname, url.port or 443, context, args.token)
        for name, steps in read_plan(args.plan).items()
    ]
    for chain in chains:
        chain.start()
    for chain in chains:
        chain.join()
    if args.counts:
        total = collections.Counter()
        for chain in chains:
            total.update(chain.counts)
        with open(args.counts, "w") as f:
            for (verb, path), n in sorted(total.items()):
                f.write(f"{verb} {path} {n}\n")
    errors = [c.error for c in chains if c.error]
    for e in errors:
        print(f"floor.py: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
