#!/usr/bin/env bash
# Arena against ffmpeg on the same job: a 20 s, 2-host, 720 x 1280, 30 fps mix (centre-crop
# scale into the dynamic-grid cells, place on black, mix audio, x264 veryfast 3000 kbit/s
# CBR with a 600 ms VBV buffer as GStreamer's x264enc uses, keyframe every 2 s, AAC 128 kbit/s).
# Runs alternate, ROUNDS times each; prints medians and appends them to benchmarks/RESULTS.md.
#   usage: benchmarks/compare.sh [ROUNDS]     (after `make demo`, from the project root)
set -euo pipefail
rounds=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/benchmarks/lib.sh"
work="$root/benchmarks/work"
mkdir -p "$work"
arena="$root/.build/release/arena"
clips="$root/out/clips"
[ -x "$arena" ] || { echo "compare.sh: build first (make demo)" >&2; exit 1; }
"$root/pipelines/demo-clips.sh" "$clips" 20

arena_job() { "$arena" render "$root/benchmarks/two-hosts.json" --quiet --output "$work/arena.mp4" > /dev/null; }
ffmpeg_job() {
    ffmpeg -nostdin -loglevel error -y -i "$clips/alice.mp4" -i "$clips/bob.mp4" -filter_complex "\
color=c=black:s=720x1280:r=30:d=20[bg];\
[0:v]scale=360:644:force_original_aspect_ratio=increase,crop=360:644,setsar=1[a];\
[1:v]scale=360:644:force_original_aspect_ratio=increase,crop=360:644,setsar=1[b];\
[bg][a]overlay=0:276[t];[t][b]overlay=360:276[v];[0:a][1:a]amix=inputs=2:duration=longest[au]" \
        -map "[v]" -map "[au]" -c:v libx264 -preset veryfast -b:v 3000k -maxrate 3000k -bufsize 1800k -g 60 \
        -c:a aac -b:a 128k -r 30 -t 20 "$work/ffmpeg.mp4"
}

declare -A wall cpu
for round in $(seq "$rounds"); do
    for job in arena ffmpeg; do
        read -r w c < <(measure "${job}_job")
        wall[$job]+="$w"$'\n'; cpu[$job]+="$c"$'\n'
        echo "round $round  $job  wall ${w}s  cpu ${c}s"
    done
done

aw=$(printf "%s" "${wall[arena]}" | median); ac=$(printf "%s" "${cpu[arena]}" | median)
fw=$(printf "%s" "${wall[ffmpeg]}" | median); fc=$(printf "%s" "${cpu[ffmpeg]}" | median)
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$work/arena.mp4")
table=$(cat <<TABLE
| job | wall (s, median) | CPU (s, median) |
|---|---|---|
| Arena | $aw | $ac |
| ffmpeg | $fw | $fc |
| **Arena / ffmpeg** | **$(awk -v a="$aw" -v b="$fw" 'BEGIN { printf "%.2f", a / b }')** | **$(awk -v a="$ac" -v b="$fc" 'BEGIN { printf "%.2f", a / b }')** |
TABLE
)
echo
echo "$table"
{
    echo
    machine_heading "2 hosts, 720x1280, 20 s"
    echo
    echo "\`benchmarks/compare.sh $rounds\` ($rounds alternating rounds; Arena's output: $frames frames)"
    echo
    echo "$table"
} >> "$root/benchmarks/RESULTS.md"
