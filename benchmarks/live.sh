#!/usr/bin/env bash
# Live mixes: the latency Arena adds between an RTP input frame and the same frame in its
# RTP output (against a baseline without Arena, in the same run), and how many 2-host
# 720x1280 30 fps live mixes this machine keeps in real time (1 to MAX at once; a count
# holds when every mix wrote at least 99 % of its frames and mix 0's p95 latency stayed
# under 150 ms). Appends both to benchmarks/RESULTS.md.
#   usage: benchmarks/live.sh [MAX_MIXES]     (after `make demo`, from the project root)
set -euo pipefail
max=${1:-6}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/benchmarks/lib.sh"
"$root/pipelines/demo-clips.sh" "$root/out/clips" 20
(cd "$root/benchmarks/Micro" && swift build -c release --product ArenaLive >/dev/null)
live="$root/benchmarks/Micro/.build/release/ArenaLive"

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
} >> "$root/benchmarks/RESULTS.md"
