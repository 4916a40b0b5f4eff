#!/usr/bin/env bash
# The PK score API: score updates a second (each synced to the ledger before its answer)
# against /healthz at the same concurrency in the same run, and the time from a score
# update's HTTP response to the first output frame that shows it. Appends to RESULTS.md.
#   usage: benchmarks/service.sh [UPDATES] [CONCURRENCY]     (from the project root)
set -euo pipefail
updates=${1:-2000}
concurrency=${2:-16}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/benchmarks/lib.sh"
(cd "$root/benchmarks/Micro" && swift build -c release --product ArenaScores >/dev/null)
result=$("$root/benchmarks/Micro/.build/release/ArenaScores" --updates "$updates" --concurrency "$concurrency" 2>/dev/null | grep -E '^score')
echo "$result"
{
    echo
    machine_heading "the PK score API: throughput and score to screen"
    echo
    echo "\`benchmarks/service.sh $updates $concurrency\` (in one process: the service, a 720x1280 mix of two idle hosts with a"
    echo "1v1 battle sending RTP, and a receiver decoding it; requests over loopback HTTP/1.1, $concurrency connections)"
    echo
    echo '```'
    echo "$result"
    echo '```'
} >> "$root/benchmarks/RESULTS.md"
