# Arena in a container: a Swift build stage, then a slim Debian runtime with only what the
# binary and its GStreamer pipelines load, run as a user of its own.
#   docker build -t arena .
#   docker run -p 8080:8080 -p 40000-40100:40000-40100/udp -e ARENA_TOKEN=... -v arena-data:/var/lib/arena arena
# Tests/ArenaCLITests/PackagingTests.swift runs this file's install, runtime checks and
# commands on the host (no Docker engine in CI): keep the RUN lines it names intact.

FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libcairo2-dev libpango1.0-dev libyuv-dev libavcodec-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN swift build -c release --product arena --static-swift-stdlib
RUN packaging/install.sh .build/release/arena /staging/usr/local

FROM debian:bookworm-slim
# The libraries the binary links, the GStreamer plugins its pipelines use (x264 in -ugly, the
# libav decoders, SRT, RTMP and HLS in -bad), and fonts for names in any script and emoji.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libc6 libgcc-s1 libstdc++6 zlib1g libglib2.0-0 libsqlite3-0 libcairo2 libpango-1.0-0 libpangocairo-1.0-0 libharfbuzz0b libyuv0 libavcodec59 libavutil57 \
        libgstreamer1.0-0 libgstreamer-plugins-base1.0-0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
        gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav \
        fonts-dejavu-core fonts-noto-cjk fonts-noto-color-emoji ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /staging/ /
RUN useradd --system --user-group --home-dir /var/lib/arena --create-home --shell /usr/sbin/nologin arena
USER arena
WORKDIR /var/lib/arena
EXPOSE 8080
# The token: ARENA_TOKEN, or --token-file with a mounted secret. SIGTERM drains within 45 s
# (docker stop -t 60).
# Settings as environment variables, so that `docker run -e ARENA_...` (or a mounted --config)
# can change them; the health check follows ARENA_LISTEN's port.
ENV ARENA_DATA=/var/lib/arena ARENA_LISTEN=0.0.0.0:8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${ARENA_LISTEN##*:} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
CMD ["arena", "serve"]
