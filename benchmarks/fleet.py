#!/usr/bin/env python3
"""The fleet: three release `arena serve` instances on one PostgreSQL 15 (Debian's, started
here with fsync on), against one instance on its SQLite store, in the same run.

- Score updates a second: CONCURRENCY clients post score updates (each its own idempotency
  key) for SECONDS, spread over the three instances, then the same load to the SQLite one.
- Score to screen through another instance: an update posted through one instance, until
  the output of a mix that another instance runs shows it (its RTP output decoded here, the
  first frame whose score bar moved).
- Failover: kill -9 of the instance that runs that mix, until another reports it running,
  and until its output's first frame from there; three rounds (the killed instance is
  started again under its name after each).

Appends its figures to benchmarks/RESULTS.md.
  usage: benchmarks/fleet.py [SECONDS] [CONCURRENCY]   (from the project root, after `make build`)
"""
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from service_client import request

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10
CONCURRENCY = int(sys.argv[2]) if len(sys.argv) > 2 else 16
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARENA = os.path.join(ROOT, ".build/release/arena")
PG = "/usr/lib/postgresql/15/bin"
TOKEN = "fleet-" + os.urandom(8).hex()


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(command):
    """PostgreSQL refuses to run as root: its programs run as the package's postgres user then."""
    return ["runuser", "-u", "postgres", "--"] + command if os.getuid() == 0 else command


class Postgres:
    def __init__(self, work):
        self.folder = os.path.join(work, "pg")
        os.makedirs(self.folder)
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.port = free_port()
        subprocess.run(as_postgres([f"{PG}/initdb", "-D", f"{self.folder}/data", "-U", "arena", "-A", "trust", "-E", "UTF8"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.process = subprocess.Popen(as_postgres([f"{PG}/postgres", "-D", f"{self.folder}/data", "-p", str(self.port),
                                                     "-k", self.folder, "-c", "listen_addresses=127.0.0.1"]),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            if subprocess.run([f"{PG}/pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-q"]).returncode == 0:
                break
            time.sleep(0.1)
        subprocess.run(as_postgres([f"{PG}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "arena", "-d", "postgres",
                                    "-q", "-c", "CREATE DATABASE arena"]), check=True)
        self.url = f"postgres://arena@127.0.0.1:{self.port}/arena?sslmode=disable"

    def stop(self):
        self.process.terminate()
        self.process.wait()


class Instance:
    def __init__(self, work, name, store=None):
        self.name, self.store, self.data = name, store, os.path.join(work, "data")
        self.port = free_port()
        self.log = open(os.path.join(work, f"serve-{name}.log"), "a")
        self.start()

    def start(self):
        options = ["--store", self.store, "--instance", self.name] if self.store else []
        self.process = subprocess.Popen([ARENA, "serve", "--data", self.data, "--listen", f"127.0.0.1:{self.port}", "--rate-limit", "0",
                                         "--max-mixes", "3"] + options,
                                        env=dict(os.environ, ARENA_TOKEN=TOKEN), stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if self.call("GET", "/healthz")[0] == 200:
                return
            time.sleep(0.05)
        raise SystemExit(f"fleet: arena serve {self.name} did not start")

    def kill(self):
        self.process.kill()
        self.process.wait()

    def stop(self):
        self.process.terminate()
        self.process.wait()

    def call(self, method, path, body=None):
        status, raw = request(self.port, TOKEN, method, path, body)
        try:
            return status, json.loads(raw or b"{}") if 200 <= status < 300 else {}
        except ValueError:
            return status, {}


WIDTH, HEIGHT = 360, 640


def mix_spec(index, screen=None):
    hosts = [{"userId": user, "input": {"rtp": {"video": {"port": free_port(socket.SOCK_DGRAM)}}}} for user in ["alice", "bob"]]
    outputs = [{"type": "recording", "path": f"m{index}.mkv", "segmentSeconds": 10}]
    if screen:
        outputs.append({"type": "rtp", "videoPort": screen.port, "audioPort": free_port(socket.SOCK_DGRAM)})
    return {"canvas": {"width": WIDTH, "height": HEIGHT}, "output": {"video": {"preset": "ultrafast"}}, "hosts": hosts,
            "live": {"disconnectTimeoutMs": 600000}, "outputs": outputs}


class Screen:
    """A viewer of a mix's RTP output: decodes every frame (gst-launch, RGB to a pipe) and notes
    when it arrived and where its 1v1 bar turns from blue (left) to red (right)."""

    def __init__(self):
        self.port = free_port(socket.SOCK_DGRAM)
        caps = "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96"
        self.process = subprocess.Popen(["gst-launch-1.0", "-q", "udpsrc", f"port={self.port}", "buffer-size=4194304", f"caps={caps}",
                                         "!", "rtph264depay", "!", "avdec_h264", "!", "videoconvert", "!",
                                         f"video/x-raw,format=RGB,width={WIDTH},height={HEIGHT}", "!", "fdsink", "fd=1"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.frames, self.row, self.lock = [], None, threading.Lock()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        size = WIDTH * HEIGHT * 3
        while (frame := self.process.stdout.read(size)) and len(frame) == size:
            arrived = time.time()
            split = self.split(frame)
            with self.lock:
                self.frames.append((arrived, split))

    def split(self, frame):
        def red(x, y):
            at = (y * WIDTH + x) * 3
            return frame[at] > 180 and frame[at + 2] < 150

        def blue(x, y):
            at = (y * WIDTH + x) * 3
            return frame[at + 2] > 180 and frame[at] < 90

        if self.row is None or not (blue(2, self.row) and red(WIDTH - 3, self.row)):
            self.row = next((y for y in range(HEIGHT) if blue(2, y) and red(WIDTH - 3, y)), None)
        return None if self.row is None else next((x for x in range(WIDTH) if red(x, self.row)), None)

    def since(self, moment):
        with self.lock:
            return [frame for frame in self.frames if frame[0] > moment]

    def latest_split(self):
        with self.lock:
            return self.frames[-1][1] if self.frames else None

    def first_moved(self, after, before, seconds=5):
        """When the first frame after `after` showed the bar more than 2 pixels from `before`."""
        moved = []
        wait_until(lambda: moved.extend(t for t, x in self.since(after) if x is not None and abs(x - before) > 2) or moved, seconds)
        return moved[0] if moved else None

    def first_after_gap(self, after, seconds=30):
        """The first frame after `after` that came a second or more after the one before it."""
        found = []

        def resumed():
            times = [after] + [t for t, _ in self.since(after)]
            found.extend(b for a, b in zip(times, times[1:]) if b - a >= 1)
            return found

        wait_until(resumed, seconds)
        return found[0] if found else None

    def stop(self):
        self.process.kill()
        self.process.wait()


def wait_until(condition, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def throughput(instances, battle):
    """Score updates a second, CONCURRENCY clients round-robin over `instances`, for SECONDS."""
    done, failed, stop = [0], [0], time.time() + SECONDS
    lock = threading.Lock()

    def client(number):
        sent = 0
        while time.time() < stop:
            target = instances[(number + sent) % len(instances)]
            status, _ = target.call("POST", f"/v1/battles/{battle}/scores",
                                    {"idempotencyKey": f"c{number}-{sent}", "scores": [{"room": "bob", "score": 1}]})
            sent += 1
            with lock:
                if status == 200:
                    done[0] += 1
                else:
                    failed[0] += 1

    started = time.time()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.time() - started), failed[0]


def battle_setup(instances, mixes, screen=None):
    for index, instance in enumerate(mixes):
        status, _ = instance.call("POST", f"/v1/mixes?id=m{index}", mix_spec(index, screen if index == 0 else None))
        assert status == 201, f"create m{index}: {status}"
    assert wait_until(lambda: all(i.call("GET", "/readyz")[0] in (200, 503) for i in instances))
    # Every instance has published who is connected in its mix (each second).
    assert wait_until(lambda: json.dumps(instances[0].call("GET", "/v1/mixes")[1]).count('"connected": ["alice"') == len(mixes))
    status, _ = instances[0].call("POST", "/v1/battles", {"battleId": "pk", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 3_600_000})
    assert status == 201, f"battle: {status}"
    time.sleep(1)


def main():
    work = tempfile.mkdtemp(prefix="arena-fleet-")
    os.chmod(work, 0o755)  # the postgres user reaches its folder inside
    os.makedirs(os.path.join(work, "data"))
    postgres = Postgres(work)
    fleet = [Instance(work, name, postgres.url) for name in ["a", "b", "c"]]
    screen = Screen()
    battle_setup(fleet, fleet, screen)
    fleet_rate, fleet_failed = throughput(fleet, "pk")

    # Score to screen: posted through c, drawn by a's mix m0; the two scores swap each round, so the
    # bar jumps between 1/4 and 3/4.
    latencies, rounds = [], 30
    fleet[2].call("POST", "/v1/battles/pk/scores", {"idempotencyKey": "lat-start", "op": "overwrite",
                                                     "scores": [{"room": "alice", "score": 100}, {"room": "bob", "score": 300}]})
    for round_number in range(rounds):
        wait_until(lambda: screen.latest_split() is not None, 5)
        before = screen.latest_split()
        high, low = (300, 100) if round_number % 2 == 0 else (100, 300)
        status, _ = fleet[2].call("POST", "/v1/battles/pk/scores", {"idempotencyKey": f"lat-{round_number}", "op": "overwrite",
                                                                     "scores": [{"room": "alice", "score": high}, {"room": "bob", "score": low}]})
        answered = time.time()
        shown = screen.first_moved(answered, before) if status == 200 and before is not None else None
        if shown:
            latencies.append((shown - answered) * 1000)
        time.sleep(0.3)

    failovers = []
    for _ in range(3):
        owner_name = fleet[1].call("GET", "/v1/mixes/m0")[1]["mix"]["instance"]
        owner = next(i for i in fleet if i.name == owner_name)
        others = [i for i in fleet if i is not owner]
        killed = time.time()
        owner.kill()
        moved = wait_until(lambda: (mix := others[0].call("GET", "/v1/mixes/m0")[1].get("mix", {})).get("state") == "running"
                           and mix.get("instance") != owner_name, 30)
        running = time.time() - killed if moved else float("inf")
        shown = screen.first_after_gap(killed)
        failovers.append((running, shown - killed if shown else float("inf")))
        owner.start()
        time.sleep(2)
    for instance in fleet:
        instance.stop()
    screen.stop()
    postgres.stop()

    solo_work = os.path.join(work, "solo")
    os.makedirs(os.path.join(solo_work, "data"))
    solo = Instance(solo_work, "solo")
    battle_setup([solo], [solo])
    solo_rate, solo_failed = throughput([solo], "pk")
    solo.stop()

    lines = [
        f"score updates/s, 3 instances on PostgreSQL: {fleet_rate:.0f} ({fleet_failed} failed)",
        f"score updates/s, 1 instance on SQLite:      {solo_rate:.0f} ({solo_failed} failed)",
        f"ratio fleet / SQLite:                       {fleet_rate / solo_rate:.2f}",
        f"score through c to the screen of a's mix (c's answer to the first decoded frame whose bar moved): median "
        f"{statistics.median(latencies):.0f} ms, p95 {sorted(latencies)[int(len(latencies) * 0.95) - 1]:.0f} ms, max {max(latencies):.0f} ms "
        f"({len(latencies)} of {rounds} seen)",
        "failover, kill -9 to running elsewhere: " + ", ".join(f"{r:.2f} s" for r, _ in failovers),
        "failover, kill -9 to its output's first frame from there (the lease is 4 s): " + ", ".join(f"{f:.2f} s" for _, f in failovers),
    ]
    print("\n".join(lines))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    with open(os.path.join(ROOT, "benchmarks/RESULTS.md"), "a") as results:
        results.write(f"\n### {time.strftime('%Y-%m-%d', time.gmtime())} · the fleet: scores through PostgreSQL, failover · {os.cpu_count()} cores, {cpu}\n\n"
                      f"`benchmarks/fleet.py {SECONDS:g} {CONCURRENCY}` (`make bench-fleet`): three release instances on one PostgreSQL 15 "
                      "(fsync on), one idle 360x640 mix each, one battle in all three, the first mix's RTP output decoded here; then one instance on its SQLite store with one mix, "
                      f"the same battle and load ({CONCURRENCY} clients, {SECONDS:g} s, every update its own key; loopback HTTP/1.1)\n\n"
                      "```\n" + "\n".join(lines) + "\n```\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
