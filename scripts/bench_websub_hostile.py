"""bench-websub --hostile: the hub against callbacks that never answer (see bench-websub's
docstring, mode (c)). 127.0.0.0/8 only: every host name is a loopback address of its own,
so the hub sees as many callback hosts as the test wants. Timings are reported, not
asserted; a wait that reaches --limit is reported as not delivered / not verified."""
import argparse
import asyncio
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


class Hanging:
    """One asyncio thread listening on many loopback addresses, one port. Paths /h…
    answer the verification and never a delivery; paths /v… never answer anything. A
    request that never gets its answer is held until the hub gives up and closes."""

    def __init__(self, ips, port):
        self.stats = {"deliveries": 0, "verifications_held": 0, "verified": 0}
        self.hosts_tried = set()
        self.port = port
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ips, port, ready), daemon=True).start()
        ready.wait(60)

    def _run(self, ips, port, ready):
        asyncio.set_event_loop(self.loop)
        for ip in ips:
            self.loop.run_until_complete(asyncio.start_server(self._handle, ip, port, backlog=512))
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            path, _, query = target.partition("?")
            if method == "GET" and path.startswith("/h"):
                challenge = urllib.parse.parse_qs(query).get("hub.challenge", [""])[0]
                writer.write(
                    f"HTTP/1.1 200 OK\r\nContent-Length: {len(challenge)}\r\n"
                    f"Connection: close\r\n\r\n{challenge}".encode())
                await writer.drain()
                self.stats["verified"] += 1
                return
            self.stats["deliveries" if method == "POST" else "verifications_held"] += 1
            self.hosts_tried.add(writer.get_extra_info("sockname")[0])
            while await reader.read(65536):
                pass
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


def loopback(block, i):
    """The i-th address of a block of 250 per third octet: 127.0.<block+i//250>.<1+i%250>."""
    return f"127.0.{block + i // 250}.{1 + i % 250}"


def post(site, k):
    posts = os.path.join(site, "content", "_posts")
    stamp = time.gmtime(time.time() - 3600 + k)
    name = time.strftime("%Y-%m-%d", stamp) + f"-burst-{k:04d}.md"
    tmp = os.path.join(posts, "." + name)
    with open(tmp, "w") as f:
        f.write(f"---\ntitle: burst-{k:04d}\ndate: {time.strftime('%Y-%m-%d %H:%M:%S', stamp)} +0000\n"
                f"---\n\nburst-{k:04d}\n")
    os.rename(tmp, os.path.join(posts, name))
    return time.time()


def request(base, topic, callback):
    data = urllib.parse.urlencode(
        {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": callback}).encode()
    req = urllib.request.Request(base + "/websub", data=data, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def subscribe_patiently(base, pairs, threads=32):
    """Subscribes every pair, trying again after a 503 (the hub's "later"); returns how
    many 503s there were."""
    import concurrent.futures
    refused = [0]

    def one(pair):
        for _ in range(600):
            code = request(base, *pair)
            if code == 202:
                return
            if code != 503:
                sys.exit(f"bench-websub: {pair[1]}: {code}")
            refused[0] += 1
            time.sleep(0.5)
        sys.exit(f"bench-websub: {pair[1]}: 503 for five minutes")
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, pairs))
    return refused[0]


def poll(check, limit):
    """Seconds until check() holds, or None after `limit` seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if check():
            return round(time.monotonic() - t0, 2)
        time.sleep(0.05)
    return None


def latencies(receiver, path, written):
    got = sorted((at, m) for p, at, m, _ in receiver.stats() if p == path)
    out = []
    for k, t in sorted(written.items()):
        first = next((at for at, m in got if m >= k), None)
        out.append(None if first is None else round(first - t, 2))
    return out


def summary(lat):
    done = sorted(x for x in lat if x is not None)
    pct = lambda p: done[min(len(done) - 1, int(len(done) * p))] if done else None
    return {"per_post_s": lat, "p50": pct(0.5), "p99": pct(0.99), "max": done[-1] if done else None,
            "not_delivered": len(lat) - len(done)}


def deliveries(m, args, feedd, hanging, site):
    first, last = m.Receiver("127.0.0.1"), m.Receiver("127.0.9.1")
    topic = feedd.base + "/feed.xml"
    pairs = [(topic, f"http://{loopback(1, i)}:{hanging.port}/h{j}")
             for i in range(args.hanging_hosts) for j in range(4)]
    pairs += [(topic, first.base + "/first"), (topic, last.base + "/last")]
    t0 = time.monotonic()
    refused = subscribe_patiently(feedd.base, pairs)
    m.wait_for("verifications", lambda: m.metric(feedd.base, "feedd_websub_subscriptions") >= len(pairs), 300)
    setup = {"subscribed_in_s": round(time.monotonic() - t0, 1), "answered_503_and_retried": refused}
    written = {}
    for k in range(1, args.posts + 1):
        written[k] = post(site, k)
        time.sleep(10)
    final = lambda r, p: any(mk >= args.posts for q, _, mk, _ in r.stats() if q == p)
    waited = poll(lambda: final(first, "/first") and final(last, "/last"), args.limit)
    out = {"hanging_subscriptions": len(pairs) - 2, "hanging_hosts": args.hanging_hosts, **setup,
           "posts": args.posts, "waited_after_last_post_s": waited if waited is not None else f">{args.limit}",
           "healthy_sorting_first": summary(latencies(first, "/first", written)),
           "healthy_sorting_last": summary(latencies(last, "/last", written))}
    return out, last


def verifications(m, args, feedd, hanging, last):
    topic = feedd.base + "/feed.xml"
    subs = lambda: m.metric(feedd.base, "feedd_websub_subscriptions")
    out = {}
    for n, block, name in ((900, 3, "new1"), (1000, 5, "new2")):
        pairs = [(topic, f"http://{loopback(block, i // 2)}:{hanging.port}/v{name}-{i}") for i in range(n)]
        statuses = {}
        for pair in pairs:
            code = request(feedd.base, *pair)
            statuses[code] = statuses.get(code, 0) + 1
        before = subs()
        code = request(feedd.base, topic, f"{last.base}/{name}")
        took = poll(lambda: subs() > before, args.limit) if code == 202 else None
        if code == 202 and took is None:
            took = f">{args.limit}"
        out[f"after_{n}_hanging"] = {
            "hanging_requests_answered": statuses, "new_subscriber_answer": code,
            "new_subscriber_verified_after_s": took}
    return out


def main(m):
    p = argparse.ArgumentParser()
    p.add_argument("--hostile", action="store_true")
    p.add_argument("--hanging-hosts", type=int, default=500)
    p.add_argument("--posts", type=int, default=5)
    p.add_argument("--limit", type=int, default=120)
    args = p.parse_args()
    for binary in (m.FEEDD, m.RECEIVER):
        if not os.path.exists(binary):
            sys.exit(f"bench-websub: {binary} missing (cargo build --release --examples)")
    os.makedirs(m.BENCH, exist_ok=True)
    site = m.gen_site("hostile", 200, 5, 5)
    hosts = [loopback(1, i) for i in range(args.hanging_hosts)]
    hosts += [loopback(3, i) for i in range(450)] + [loopback(5, i) for i in range(500)]
    hanging = Hanging(hosts, m.free_port())
    t0 = time.monotonic()
    feedd = m.Feedd(site, m.free_port())
    result = {"binary": m.FEEDD}
    result["deliveries"], last = deliveries(m, args, feedd, hanging, site)
    result["verifications"] = verifications(m, args, feedd, hanging, last)
    result["hanging_tries"] = {**hanging.stats, "hosts_tried": len(hanging.hosts_tried)}
    result["feedd_rss_mib"] = round(m.rss_kib(feedd.proc.pid)[0] / 1024)
    result["bench_s"] = round(time.monotonic() - t0)
    feedd.stop()
    print(json.dumps({"hostile": result}, ensure_ascii=False, indent=1), flush=True)
