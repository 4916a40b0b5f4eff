#!/usr/bin/env python3
"""The soak: MINUTES of a release `arena serve` under churn, and whether it holds steady.

Up to three live mixes at a time are created, patched (template, outputs), fed co-host and
camera/mic events, put into REST battles with score updates, and deleted, while their hosts'
RTP senders (gst-launch) come and go. Once a minute the soak deletes every mix, waits for the
service to settle, and samples the idle service's RSS, open descriptors and threads: what a
leak would grow. Growth is measured from the sample after the warm-up (a sixth of the run, at
least 2 minutes) to the last one. It passes when RSS grows less than 5 MB and descriptors
and threads end where they were; any 5xx answer or a service that dies fails it.

Appends its figures to benchmarks/RESULTS.md.
  usage: benchmarks/soak.py [MINUTES]     (from the project root, after `make build`)
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from service_client import request

MINUTES = float(sys.argv[1]) if len(sys.argv) > 1 else 30
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARENA = os.path.join(ROOT, ".build/release/arena")
TOKEN = "soak-" + os.urandom(8).hex()
SLOTS = 3
random.seed(int(os.environ.get("SOAK_SEED", "1129")))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    def __init__(self, work):
        self.port = free_port()
        self.log = open(os.path.join(work, "serve.log"), "w")
        env = dict(os.environ, ARENA_TOKEN=TOKEN)
        self.process = subprocess.Popen(
            [ARENA, "serve", "--data", os.path.join(work, "data"), "--listen", f"127.0.0.1:{self.port}",
             "--rate-limit", "0", "--max-mixes", str(SLOTS + 1)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            if self.call("GET", "/healthz")[0] == 200:
                return
            time.sleep(0.1)
        raise SystemExit("soak: arena serve did not start")

    def call(self, method, path, body=None):
        return request(self.port, TOKEN, method, path, body)

    def sample(self):
        pid = self.process.pid
        status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status") if ":" in line)
        return {"rss_mb": int(status["VmRSS"].split()[0]) / 1024, "threads": int(status["Threads"]),
                "fds": len(os.listdir(f"/proc/{pid}/fd"))}


class Senders:
    """RTP H.264 senders by port, started and stopped as hosts come and go."""

    def __init__(self):
        self.running = {}

    def start(self, port):
        if port in self.running:
            return
        launch = ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=240,height=426,framerate=15/1 "
                  "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=300 "
                  f"! rtph264pay pt=96 config-interval=-1 ! udpsink host=127.0.0.1 port={port}")
        self.running[port] = subprocess.Popen(["gst-launch-1.0", "-q"] + launch.split(),
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self, port):
        sender = self.running.pop(port, None)
        if sender:
            sender.send_signal(signal.SIGINT)
            try:
                sender.wait(5)
            except subprocess.TimeoutExpired:
                sender.kill()
                sender.wait()

    def stop_all(self):
        for port in list(self.running):
            self.stop(port)


def mix_spec(ports):
    hosts = [{"userId": user, "userName": user.title(), "input": {"rtp": {"video": {"port": port}}}}
             for user, port in zip(["alice", "bob", "carol"], ports)]
    return {"canvas": {"width": 360, "height": 640}, "output": {"video": {"preset": "ultrafast"}},
            "hosts": hosts, "live": {"disconnectTimeoutMs": 5000},
            "outputs": [{"type": "recording", "path": f"rec-{ports[0]}.mkv", "segmentSeconds": 10}]}


def main():
    work = tempfile.mkdtemp(prefix="arena-soak-")
    service = Service(work)
    senders = Senders()
    counts = {}
    failures = []
    samples = []
    mixes = {}  # slot -> (mix id, ports, created at)
    serial = 0
    started = time.time()
    next_sample = started

    def act(name, status):
        counts[name] = counts.get(name, 0) + 1
        if status == 0 or status >= 500:
            failures.append(f"{name}: {status}")

    def delete(slot):
        mix_id, ports, _ = mixes.pop(slot)
        act("delete", service.call("DELETE", f"/v1/mixes/{mix_id}")[0])
        for port in ports:
            senders.stop(port)

    try:
        while time.time() - started < MINUTES * 60:
            if time.time() >= next_sample:
                for slot in list(mixes):
                    delete(slot)
                time.sleep(3)
                sample = service.sample()
                sample["minute"] = round((time.time() - started) / 60, 1)
                samples.append(sample)
                print(f"soak: minute {sample['minute']}: RSS {sample['rss_mb']:.1f} MB, {sample['fds']} fds, "
                      f"{sample['threads']} threads; {sum(counts.values())} calls", flush=True)
                next_sample += 60
            slot = random.randrange(SLOTS)
            if slot not in mixes:
                serial += 1
                ports = [40000 + slot * 100 + index * 2 for index in range(3)]
                mix_id = f"soak-{serial}"
                status = service.call("POST", f"/v1/mixes?id={mix_id}", mix_spec(ports))[0]
                act("create", status)
                if status == 201:
                    mixes[slot] = (mix_id, ports, time.time())
                    for port in ports[:2]:
                        senders.start(port)
            else:
                mix_id, ports, created = mixes[slot]
                choice = random.random()
                if choice < 0.2:
                    port = random.choice(ports)
                    (senders.stop if port in senders.running else senders.start)(port)
                    counts["sender"] = counts.get("sender", 0) + 1
                elif choice < 0.35:
                    act("patch", service.call("PATCH", f"/v1/mixes/{mix_id}", {"template": random.choice([600, 601, 800, 801])})[0])
                elif choice < 0.45:
                    outputs = [{"type": "recording", "path": f"rec-{ports[0]}.mkv", "segmentSeconds": 10}]
                    if random.random() < 0.5:
                        outputs.append({"type": "hls", "folder": ".", "segmentSeconds": 2})
                    act("patch", service.call("PATCH", f"/v1/mixes/{mix_id}", {"outputs": outputs})[0])
                elif choice < 0.7:
                    user = random.choice(["bob", "carol"])
                    event = random.choice(["hostJoined", "hostLeft", "micOff", "micOn", "cameraOff", "cameraOn"])
                    act("event", service.call("POST", f"/v1/mixes/{mix_id}/events", {"event": event, "userId": user})[0])
                elif choice < 0.85:
                    battle = f"pk-{mix_id}-{counts.get('battle', 0)}"
                    status = service.call("POST", "/v1/battles", {"battleId": battle, "fromRoom": "alice", "toRooms": ["bob", "carol"],
                                                                   "durationMs": 20000})[0]
                    act("battle", status)
                    for key in range(5):
                        act("score", service.call("POST", f"/v1/battles/{battle}/scores",
                                                  {"idempotencyKey": f"g{key}", "op": "accumulate",
                                                   "scores": [{"room": random.choice(["alice", "bob"]), "score": random.randint(1, 500)}]})[0])
                    if random.random() < 0.5:
                        act("end", service.call("POST", f"/v1/battles/{battle}/end")[0])
                elif time.time() - created > 20:
                    delete(slot)
            if service.process.poll() is not None:
                failures.append(f"arena serve exited with {service.process.returncode}")
                break
            time.sleep(0.5)
    finally:
        for slot in list(mixes):
            delete(slot)
        senders.stop_all()
        service.process.send_signal(signal.SIGTERM)
        try:
            code = service.process.wait(60)
        except subprocess.TimeoutExpired:
            service.process.kill()
            code = "killed after 60 s"
        if code not in (0, -signal.SIGTERM):
            failures.append(f"arena serve ended with {code} on SIGTERM")
        if failures:
            shutil.copy(os.path.join(work, "serve.log"), os.path.join(ROOT, "benchmarks/soak-serve.log"))
            print("soak: the service's log is in benchmarks/soak-serve.log")
        shutil.rmtree(work, ignore_errors=True)
    report(samples, counts, failures)


def report(samples, counts, failures):
    warm = max(2, int(MINUTES / 6))
    after = [sample for sample in samples if sample["minute"] >= warm]
    verdict = "FAIL: " + "; ".join(failures[:5] + ["too short"]) if len(after) < 2 else None
    growth = after[-1]["rss_mb"] - after[0]["rss_mb"] if len(after) >= 2 else 0
    if not verdict:
        problems = failures[:5]
        if growth >= 5:
            problems.append(f"RSS grew {growth:.1f} MB after the warm-up")
        for key in ("fds", "threads"):
            if after[-1][key] > after[0][key]:
                problems.append(f"{key} went from {after[0][key]} to {after[-1][key]}")
        verdict = "FAIL: " + "; ".join(problems) if problems else "PASS"
    lines = ["", f"### {time.strftime('%Y-%m-%d', time.gmtime())} · soak, {MINUTES:g} minutes · {os.cpu_count()} cores, "
             + open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t"), "",
             f"`benchmarks/soak.py {MINUTES:g}` (`make soak`): up to {SLOTS} live 360x640 mixes at a time, created, patched,",
             "fed events, battled and deleted while RTP senders come and go; each minute every mix is deleted and the",
             f"idle service sampled. Calls: {', '.join(f'{name} {count}' for name, count in sorted(counts.items()))}.", "",
             "| minute | RSS MB | fds | threads |", "|---|---|---|---|"]
    lines += [f"| {s['minute']} | {s['rss_mb']:.1f} | {s['fds']} | {s['threads']} |" for s in samples]
    if len(after) >= 2:
        lines += ["", f"After the {warm}-minute warm-up: RSS {after[0]['rss_mb']:.1f} → {after[-1]['rss_mb']:.1f} MB "
                  f"({growth:+.1f} MB), fds {after[0]['fds']} → {after[-1]['fds']}, threads {after[0]['threads']} → {after[-1]['threads']}. "
                  f"Failed calls: {len(failures)}."]
    lines += ["", f"**{verdict}**"]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(ROOT, "benchmarks/RESULTS.md"), "a") as results:
        results.write(text)
    sys.exit(0 if verdict == "PASS" else 1)


if __name__ == "__main__":
    main()
