#!/usr/bin/env bash
# Live mixes: the latency Arena adds between an RTP input frame and the same frame in its
# RTP output (against a baseline without Arena, in the same run), and how many 2-host
# 720x1280 30 fps live mixes this machine keeps in real time (1 to MAX at once; a count
# holds when every mix wrote at least 99 % of its frames and mix 0's p95 latency stayed
# under 150 ms). Against them, the live floor in the same run: decoding one mix's two inputs
# (as the senders send them) and encoding its output (its frames with x264 as a live mix
# encodes them, its silence with AAC), paced in real time, one gst-launch per mix, alone and
# ten at once: what any compositor would pay per mix. Appends all of it to benchmarks/RESULTS.md.
#   usage: benchmarks/live.sh [MAX_MIXES]     (after `make demo`, from the project root)
set -euo pipefail
max=${1:-6}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/benchmarks/lib.sh"
"$root/pipelines/demo-clips.sh" "$root/out/clips" 20
(cd "$root/benchmarks/Micro" && swift build -c release --product ArenaLive >/dev/null)
live="$root/benchmarks/Micro/.build/release/ArenaLive"

# The live floor. Made once, not timed: Alice's stream as the stamping sender sends it, and
# the mix's own frames (the same layout rendered from the same clips), raw.
arena="$root/.build/release/arena"; clips="$root/out/clips"
work="$root/benchmarks/work/live-floor"; mkdir -p "$work"
gst-launch-1.0 -q filesrc location="$clips/alice.mp4" ! qtdemux ! h264parse ! avdec_h264 ! videoconvert ! video/x-raw,format=I420 \
    ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=2500 ! h264parse ! mp4mux ! filesink location="$work/alice-sent.mp4"
cat > "$work/mix.json" <<JSON
{"template": 600, "canvas": {"width": 720, "height": 1280, "fps": 30}, "duration": 15,
 "hosts": [{"userId": "a", "input": "$clips/alice.mp4"}, {"userId": "b", "input": "$clips/bob.mp4"}],
 "output": {"video": {"bitrateKbps": 3000, "preset": "veryfast", "keyframeIntervalSeconds": 2}}}
JSON
"$arena" render "$work/mix.json" --quiet --output "$work/mix.mp4" > /dev/null
gst-launch-1.0 -q filesrc location="$work/mix.mp4" ! qtdemux name=d d.video_0 ! avdec_h264 ! video/x-raw,format=I420 ! filesink location="$work/frames.yuv"
# One mix's decoding and encoding in real time (paced as a live mix is, which costs x264 about
# 20 % more CPU than encoding the same frames back to back), all at once in one process.
live_floor() {
    gst-launch-1.0 -q filesrc location="$work/alice-sent.mp4" ! qtdemux name=a a.video_0 ! h264parse \
        ! identity sync=true eos-after=450 ! avdec_h264 max-threads=1 ! fakesink async=false \
        filesrc location="$clips/bob.mp4" ! qtdemux name=b b.video_0 ! h264parse \
        ! identity sync=true eos-after=450 ! avdec_h264 max-threads=1 ! fakesink async=false \
        filesrc location="$work/frames.yuv" ! rawvideoparse width=720 height=1280 format=i420 framerate=30/1 ! identity sync=true \
        ! x264enc speed-preset=veryfast bitrate=3000 key-int-max=60 tune=zerolatency threads=1 ! fakesink async=false \
        audiotestsrc wave=silence num-buffers=704 samplesperbuffer=1024 ! audio/x-raw,rate=48000,channels=2 ! identity sync=true \
        ! avenc_aac bitrate=128000 aac-coder=fast ! fakesink async=false
}
# N floors at once, as N mixes run; prints "wall cpu".
floors() { for _ in $(seq "$floors_at_once"); do live_floor & done; wait; }
floor_round() {
    floors_at_once=$1
    read -r w c < <(measure floors)
    awk -v n="$1" -v w="$w" -v c="$c" 'BEGIN { printf "%d at once: CPU %.1f s over %.1f s (%.2f s a mix, %.0f%% of 2 cores)", n, c, w, c / n, 100 * c / w / 2 }'
}
floor_one=$(for round in 1 2 3; do floor_round 1; echo; done | sort -t' ' -k5 -n | sed -n 2p)  # the median round
floor_ten=$(floor_round 10)
rm -f "$work/frames.yuv"

latency=$("$live" latency "$root/out/clips" --seconds 15)
echo "$latency"
capacity=""
held=0
for mixes in $(seq "$max"); do
    line=$("$live" capacity "$root/out/clips" --mixes "$mixes" --seconds 15)
    echo "$line"
    capacity+="$line"$'\n'
    p95=$(echo "$line" | sed -n 's/.*p95 \([0-9.]*\),.*/\1/p' | head -1)
    short=$(echo "$line" | awk '/ wrote / { sub(/\(/, "", $6); if ($6 + 0 < 99) print }')
    if [ -n "$short" ] || awk -v p="$p95" 'BEGIN { exit !(p == "" || p >= 150) }'; then break; fi
    held=$mixes
done
echo "held in real time: $held mixes"
# Arena's CPU per mix at the largest count held, above the senders and receiver alone.
alone=$(echo "$latency" | sed -n 's/^without Arena.*CPU \([0-9.]*\) s over.*/\1/p')
arena_cpu=$(echo "$capacity" | sed -n "s/^$held mixes at once.*CPU \([0-9.]*\) s over.*/\1/p")
per_mix=$([ -n "$arena_cpu" ] && awk -v a="$arena_cpu" -v b="$alone" -v n="$held" 'BEGIN { printf "%.2f s", (a - b) / n }' || echo "n/a")
summary="Arena: $per_mix of CPU a mix over 15 s at $held mixes (above the senders and receiver alone, $alone s). The live floor, in real time, without senders or receiver: $floor_one; $floor_ten."
echo "$summary"
{
    echo
    machine_heading "live mixes: added latency and capacity, 2 hosts, 720x1280, 30 fps"
    echo
    echo "\`benchmarks/live.sh $max\` (each round 15 s of the demo's Alice and Bob clips sent as RTP in real time)"
    echo
    echo '```'
    echo "$latency"
    echo "$capacity"
    echo '```'
    echo
    echo "Live mixes held in real time on this machine, senders and receiver included: **$held**."
    echo
    echo "$summary"
} >> "$root/benchmarks/RESULTS.md"
