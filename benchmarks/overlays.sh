#!/usr/bin/env bash
# What the overlays cost per output frame: the same 20 s 1v1 battle (default skin) (names, a score change
# every second so the bar animates, the timer ticking) rendered with all overlays on and with
# them off, alternating, ROUNDS times each. The figure is Arena's own measure of the overlay
# stage (CPU time of the compositor's thread drawing what changed and blending, per frame; painting the cells is reported apart), which
# whole-process CPU is too noisy to show; whole-process CPU is printed beside it.
# Prints medians and appends them to benchmarks/RESULTS.md.
#   usage: benchmarks/overlays.sh [ROUNDS]     (after `make demo`, from the project root)
set -euo pipefail
rounds=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/benchmarks/lib.sh"
work="$root/benchmarks/work"
mkdir -p "$work"
arena="$root/.build/release/arena"
[ -x "$arena" ] || { echo "overlays.sh: build first (make demo)" >&2; exit 1; }
"$root/pipelines/demo-clips.sh" "$root/out/clips" 20
sed 's/"enabled": true/"enabled": false/' "$root/benchmarks/battle-1v1.json" > "$root/benchmarks/work/battle-1v1-plain.json"
sed -i 's|"../out/clips/|"../../out/clips/|' "$root/benchmarks/work/battle-1v1-plain.json"

# The render's summary line ends "overlays N ms/frame"; keep N.
on_job() { "$arena" render "$root/benchmarks/battle-1v1.json" --quiet --output "$work/overlays-on.mp4" | sed -n 's/.*overlays \([0-9.]*\) ms\/frame/\1/p' > "$work/stage"; }
off_job() { "$arena" render "$work/battle-1v1-plain.json" --quiet --output "$work/overlays-off.mp4" | sed -n 's/.*overlays \([0-9.]*\) ms\/frame/\1/p' > "$work/stage"; }

declare -A cpu stage
for round in $(seq "$rounds"); do
    for job in on off; do
        read -r w c < <(measure "${job}_job")
        cpu[$job]+="$c"$'\n'
        stage[$job]+="$(cat "$work/stage")"$'\n'
        echo "round $round  overlays $job  wall ${w}s  cpu ${c}s  overlay stage $(cat "$work/stage") ms/frame"
    done
done
on=$(printf "%s" "${stage[on]}" | median); off=$(printf "%s" "${stage[off]}" | median)
on_cpu=$(printf "%s" "${cpu[on]}" | median); off_cpu=$(printf "%s" "${cpu[off]}" | median)
table=$(cat <<TABLE
| job | overlay stage (ms per frame, median of $rounds) | whole process CPU (s, median) |
|---|---|---|
| 1v1 battle, all overlays | **$on** | $on_cpu |
| same mix, overlays off | $off | $off_cpu |
TABLE
)
echo
echo "$table"
{
    echo
    machine_heading "overlays on vs off, 1v1 battle, 720x1280, 600 frames"
    echo
    echo "\`benchmarks/overlays.sh $rounds\` ($rounds alternating rounds each)"
    echo
    echo "$table"
} >> "$root/benchmarks/RESULTS.md"
