# Arena: `make demo` sets up, builds and renders the demo; `make test` sets up and runs all tests.

# Debian packages Arena builds and runs with (gstreamer1.0-x brings textoverlay, which the
# demo clips use to show each host's name).
DEB_PACKAGES := libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libcairo2-dev libpango1.0-dev \
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
	gstreamer1.0-libav gstreamer1.0-tools gstreamer1.0-x fonts-dejavu-core fonts-noto-cjk fonts-noto-color-emoji pkg-config \
	libyuv-dev libavcodec-dev
# Only for the tests: a real RTMP server for the live mix's RTMP output; curl and a Python
# venv for the API fuzzer (schemathesis, from PyPI); PostgreSQL 15 for the PostgreSQL store;
# ffmpeg for the scaling-quality reference (lanczos); Prometheus' Python client for its text parser;
# readelf and systemd-analyze for the container image and unit checks.
TEST_PACKAGES := nginx-light libnginx-mod-rtmp curl python3-venv iproute2 postgresql-15 ffmpeg python3-prometheus-client binutils systemd
# Only for benchmarks: the baselines, and gnuplot for the chart.
BENCH_PACKAGES := ffmpeg time gnuplot-nox

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARENA := .build/release/arena

.PHONY: demo test fuzz soak bench bench-live bench-repair bench-service bench-fleet bench-micro golden gallery build install deps test-deps bench-deps clean

demo: build out/clips/.made
	$(ARENA) render pipelines/demo.json --output out/demo.mp4 --events-out out/demo-events.jsonl

# At most three tests at once: the live, fleet and lip-sync tests time real work, and with
# every test of the run at once (load average 20-38 on 2 cores) they starved; the run takes
# as long (240 s either way, measured on 2 cores).
test: deps test-deps
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=3 swift test
	Tests/fuzz-api.sh

# Long fuzzing: 100,000 mutated specs, patches, events, battles and scores (make test runs
# 1,000), then schemathesis with 1,000 examples per operation (make test: 50). About 26 minutes.
fuzz: deps test-deps
	ARENA_FUZZ_CASES=100000 ARENA_FUZZ_SEED=$${ARENA_FUZZ_SEED:-$$(date +%s)} swift test --filter SpecFuzzTests
	Tests/fuzz-api.sh .build/debug/arena 1000

# 30 minutes of mixes created, patched, fed events and deleted while RTP senders come and go;
# RSS, descriptors and threads sampled each minute. Appends its figures to benchmarks/RESULTS.md.
soak: build test-deps
	benchmarks/soak.py $${SOAK_MINUTES:-30}

# The README's pictures of skins, a voice room and a custom layout (docs/gallery), at a third of their size.
gallery: build bench-deps out/clips/.made
	for shot in "gallery.json 4.5 skin-default" "gallery.json 4.5 skin-sdk-example sdk-example" "gallery.json 7 skin-sdk-example-3 sdk-example" \
	            "gallery-voice.json 1.5 voice-room" "gallery-custom.json 2 custom-layout"; do \
		set -- $$shot; $(ARENA) snapshot pipelines/$$1 --at $$2 --output out/$$3.png $${4:+--skin $$4} && \
		ffmpeg -v error -y -i out/$$3.png -vf scale=240:-2 docs/gallery/$$3.png || exit 1; \
	done

# Rewrites the overlays' reference images (Tests/ArenaOverlayTests/Golden); look before committing.
golden: deps
	ARENA_UPDATE_GOLDEN=1 swift test --filter GoldenImageTests

# Whole jobs against ffmpeg, gst-launch and the floor, then the overlays' cost; appends to
# benchmarks/RESULTS.md and draws benchmarks/cpu-by-hosts.png. About 20 minutes on 2 cores (5 rounds). Needs the demo's clips (make demo).
bench: build bench-deps out/clips/.made
	benchmarks/jobs.sh 5
	benchmarks/overlays.sh 5

# Live mixes: latency Arena adds RTP to RTP, and how many live mixes this machine holds; then
# the RTP repair and lip-sync figures (bench-repair).
bench-live: build out/clips/.made
	benchmarks/live.sh 9
	$(MAKE) bench-repair

# RTP repair and lip sync, measured by the tests that check them, each printing its figures:
# ffmpeg's flash-and-beep after a minute, alone; then a mix joining a 4 s GOP, a 50-packet
# burst with NACK+PLI against a sender that ignores feedback, and 60 s of 5 % loss with retransmissions.
# About 3 minutes.
bench-repair: deps test-deps
	swift test --filter flashesAndBeepsStayTogetherAfterAMinute 2>&1 | grep -E '^lip sync|^. Test run'
	swift test --filter RepairTests 2>&1 | grep -E '^(join|burst|random loss)|^. Test run'

# The PK score API: updates a second, and the time from a score's HTTP answer to the screen.
bench-service: deps
	benchmarks/service.sh 2000 16

# The fleet: three instances on one PostgreSQL against one on SQLite (score updates a second),
# a score through one instance to a mix another runs, and failover after kill -9. About 2 minutes.
bench-fleet: build test-deps
	benchmarks/fleet.py 10 16

# Micro-benchmarks of layout, session, overlay drawing and blending (a package of its own).
bench-micro: deps
	cd benchmarks/Micro && swift package --disable-sandbox benchmark

build: deps
	swift build -c release --product arena

# The release binary and its assets into PREFIX (bin/arena, share/arena); DESTDIR for staging.
PREFIX ?= /usr/local
install: build
	packaging/install.sh $(ARENA) $(DESTDIR)$(PREFIX)

out/clips/.made: pipelines/demo-clips.sh
	pipelines/demo-clips.sh out/clips 20
	touch $@

# Installs whichever of the packages are missing (apt-get; root or sudo).
deps:
	@$(call install_missing,$(DEB_PACKAGES))

test-deps:
	@$(call install_missing,$(TEST_PACKAGES))

bench-deps:
	@$(call install_missing,$(BENCH_PACKAGES))

define install_missing
missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
if [ -n "$$missing" ]; then \
	echo "installing Debian packages:" $$missing; \
	$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
fi
endef

clean:
	rm -rf .build out benchmarks/work
