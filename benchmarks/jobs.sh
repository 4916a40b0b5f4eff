#!/usr/bin/env bash
# Arena against ffmpeg, a plain gst-launch pipeline and the floor, on generated inputs.
# For each case (hosts on a canvas): (a) Arena rendering a 20 s battle with all overlays;
# (b) ffmpeg doing the same decode + crop/scale + place + score bar + names + timer + x264;
# (c) the naive gst-launch pipeline letting the compositor scale (no crop, no overlays);
# (d) the floor: decoding the inputs (video and audio) plus encoding Arena's own output
#     (its frames with x264, its sound with AAC) with Arena's own encoder settings.
# The baselines are the cheapest in CPU: ffmpeg and the floor decode each input's video on
# one thread, as Arena does (libav's default frame threads cost 6-30 % more CPU here).
# Same encoder settings everywhere (Arena and the floor add sliced threads): x264 veryfast, 3000 kbit/s, CBR with a 600 ms VBV buffer,
# keyframe every 2 s; AAC 128 kbit/s with libavcodec's fast coder. Runs alternate, ROUNDS
# times each; medians go to benchmarks/RESULTS.md, and the CPU seconds of the 720x1280 cases
# by number of hosts to the chart benchmarks/cpu-by-hosts.png (gnuplot).
#   usage: benchmarks/jobs.sh [ROUNDS] [CASE ...]    CASE: HOSTSxWIDTHxHEIGHT, e.g. 2x720x1280
set -euo pipefail
rounds=${1:-3}; shift || true
cases=${*:-2x720x1280 4x720x1280 9x720x1280 2x1080x1920}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/benchmarks/lib.sh"
work="$root/benchmarks/work"; clips="$root/out/clips"; arena="$root/.build/release/arena"
mkdir -p "$work"
medians="$work/cpu-medians.tsv"; : > "$medians"
[ -x "$arena" ] || { echo "jobs.sh: build first (make demo)" >&2; exit 1; }
"$root/pipelines/demo-clips.sh" "$clips" 20
names=(alice bob carol dave)
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
x264="speed-preset=veryfast bitrate=3000 key-int-max=60"
# Arena's own x264 settings (EncoderTail): the same, with sliced threads for memory. The
# floor encodes with these; ffmpeg and the naive gst-launch keep their encoders' defaults.
arena_x264="$x264 sliced-threads=true"

for case in $cases; do
    IFS=x read -r hosts width height <<< "$case"
    mapfile -t cells < <("$arena" layouts --template 600 --hosts "$hosts" --canvas "${width}x${height}")
    input() { echo "$clips/${names[$(($1 % 4))]}.mp4"; }

    # (a) Arena: a battle between the first two hosts, a score every second. The same mix as
    # a live one (`arena run`, real time, x264 tuned for latency) is run once for its memory.
    spec() {
        echo '{"template": 600, "canvas": {"width": '"$width"', "height": '"$height"', "fps": 30}, "duration": 20, "hosts": ['
        for ((i = 0; i < hosts; i++)); do printf '%s{"userId": "h%d", "userName": "Host %d", "input": "%s"}' "$([ $i -gt 0 ] && echo ,)" $i $i "$(input $i)"; done
        echo '], "timeline": [{"at": 0.5, "event": "battleRequest", "battleId": "pk", "inviter": "h0", "invitees": ["h1"], "duration": 19, "needResponse": false}'
        for ((s = 1; s < 19; s++)); do printf ',{"at": %d.5, "event": "score", "battleId": "pk", "userId": "h%d", "score": %d}' $s $((s % 2)) $((s * 37)); done
        echo '], "output": {"video": {"bitrateKbps": 3000, "preset": "veryfast", "keyframeIntervalSeconds": 2}}'"$1"'}'
    }
    spec "" > "$work/job-$case.json"
    rm -rf "$work/live-$case" && mkdir -p "$work/live-$case"
    spec ', "outputs": [{"type": "recording", "path": "'"$work/live-$case/mix.mp4"'"}]' > "$work/live-$case.json"
    arena_job() { "$arena" render "$work/job-$case.json" --quiet --output "$work/arena-$case.mp4" > /dev/null; }

    # (b) ffmpeg: crop/scale each input into its cell, overlay on black, bar + names + timer.
    graph="color=c=black:s=${width}x${height}:r=30:d=20[base]"; last=base; inputs=()
    for ((i = 0; i < hosts; i++)); do
        read -r _ x y w h <<< "${cells[$i]}"
        inputs+=(-threads 1 -i "$(input $i)")
        graph+=";[$i:v]scale=$w:$h:force_original_aspect_ratio=increase,crop=$w:$h,setsar=1[c$i];[$last][c$i]overlay=$x:$y[o$i]"
        last=o$i
        graph+=";[$last]drawtext=fontfile=$font:text='Host $i':fontsize=$((width / 36)):fontcolor=white:box=1:boxcolor=0x22262E@0.4:x=$((x + width / 37)):y=$((y + h - width / 20))[n$i]"
        last=n$i
    done
    read -r _ bx by bw _ <<< "${cells[0]}"; read -r _ ex _ ew _ <<< "${cells[1]}"
    bar=$((width / 26)); split=$(((ex + ew - bx) / 2))
    graph+=";[$last]drawbox=x=$bx:y=$by:w=$split:h=$bar:color=0x1C66E5:t=fill,drawbox=x=$((bx + split)):y=$by:w=$((ex + ew - bx - split)):h=$bar:color=0xF15065:t=fill"
    graph+=",drawtext=fontfile=$font:text='925':fontsize=$((width / 30)):fontcolor=white:x=$((bx + width / 30)):y=$by"
    graph+=",drawtext=fontfile=$font:text='%{pts\\:hms}':fontsize=$((width / 26)):fontcolor=white:box=1:boxcolor=0x333333@0.6:x=(w-tw)/2:y=$((by + bar))[v]"
    amix=""; for ((i = 0; i < hosts; i++)); do amix+="[$i:a]"; done
    graph+=";${amix}amix=inputs=$hosts:duration=longest[a]"
    ffmpeg_args=(-nostdin -loglevel error -y "${inputs[@]}" -filter_complex "$graph" -map "[v]" -map "[a]" -c:v libx264 -preset veryfast
        -b:v 3000k -maxrate 3000k -bufsize 1800k -g 60 -c:a aac -aac_coder fast -b:a 128k -r 30 -t 20 "$work/ffmpeg-$case.mp4")
    ffmpeg_job() { ffmpeg "${ffmpeg_args[@]}"; }

    # (c) naive gst-launch: the compositor scales each decoded input to its cell.
    naive="compositor name=c background=black"
    for ((i = 0; i < hosts; i++)); do read -r _ x y w h <<< "${cells[$i]}"; naive+=" sink_$i::xpos=$x sink_$i::ypos=$y sink_$i::width=$w sink_$i::height=$h"; done
    naive+=" ! video/x-raw,format=I420,width=$width,height=$height,framerate=30/1 ! queue ! x264enc $x264 ! h264parse ! queue ! mp4mux name=m ! filesink location=$work/gst-$case.mp4 audiomixer name=am ! audioconvert ! avenc_aac aac-coder=fast ! queue ! m."
    for ((i = 0; i < hosts; i++)); do naive+=" filesrc location=$(input $i) ! qtdemux name=d$i d$i.video_0 ! queue ! avdec_h264 ! c.sink_$i d$i.audio_0 ! queue ! avdec_aac ! audioconvert ! audioresample ! am."; done
    gst_job() { gst-launch-1.0 -q $naive > /dev/null; }

    # (d) the floor: Arena's output frames and sound, raw, are made once (not timed).
    arena_job
    gst-launch-1.0 -q filesrc location="$work/arena-$case.mp4" ! qtdemux name=d d.video_0 ! avdec_h264 ! video/x-raw,format=I420 ! filesink location="$work/frames-$case.yuv" async=false \
        d.audio_0 ! avdec_aac ! audioconvert ! audio/x-raw,format=S16LE,rate=48000,channels=2 ! filesink location="$work/sound-$case.raw" async=false
    floor_job() {
        for ((i = 0; i < hosts; i++)); do
            gst-launch-1.0 -q filesrc location="$(input $i)" ! qtdemux name=d d.video_0 ! avdec_h264 max-threads=1 ! fakesink async=false \
                d.audio_0 ! avdec_aac ! fakesink async=false
        done
        gst-launch-1.0 -q filesrc location="$work/frames-$case.yuv" ! rawvideoparse width=$width height=$height format=i420 framerate=30/1 \
            ! x264enc $arena_x264 ! fakesink \
            filesrc location="$work/sound-$case.raw" ! rawaudioparse format=pcm pcm-format=s16le sample-rate=48000 num-channels=2 \
            ! audioconvert ! avenc_aac bitrate=128000 aac-coder=fast ! fakesink
    }

    declare -A wall=() cpu=()
    for round in $(seq "$rounds"); do
        for job in arena floor ffmpeg gst; do  # the floor right after Arena, for the paired ratio below
            read -r w c < <(measure "${job}_job")
            wall[$job]+="$w"$'\n'; cpu[$job]+="$c"$'\n'
            echo "$case round $round  $job  wall ${w}s  cpu ${c}s"
        done
    done
    peak=$(/usr/bin/time -f %M "$arena" render "$work/job-$case.json" --quiet --output "$work/arena-$case.mp4" 2>&1 >/dev/null | tail -1)
    ffmpeg_peak=$(/usr/bin/time -f %M ffmpeg "${ffmpeg_args[@]}" 2>&1 >/dev/null | tail -1)
    live_peak=$(/usr/bin/time -f %M "$arena" run "$work/live-$case.json" 2>&1 >/dev/null | tail -1)
    aw=$(printf "%s" "${wall[arena]}" | median); ac=$(printf "%s" "${cpu[arena]}" | median)
    table="| job | wall (s) | CPU (s) | Arena / job, wall | Arena / job, CPU |"$'\n'"|---|---|---|---|---|"
    for job in arena ffmpeg gst floor; do
        jw=$(printf "%s" "${wall[$job]}" | median); jc=$(printf "%s" "${cpu[$job]}" | median)
        label=$(case $job in arena) echo "Arena (all overlays)";; ffmpeg) echo "ffmpeg, same job";; gst) echo "gst-launch, compositor scaling";; floor) echo "floor: decode + encode";; esac)
        table+=$'\n'"| $label | $jw | $jc | $(awk -v a="$aw" -v b="$jw" 'BEGIN { printf "%.2f", a / b }') | $(awk -v a="$ac" -v b="$jc" 'BEGIN { printf "%.2f", a / b }') |"
    done
    printf '%s\t%s\t%s' "$hosts" "$width" "$height" >> "$medians"
    for job in arena ffmpeg gst floor; do printf '\t%s' "$(printf "%s" "${cpu[$job]}" | median)" >> "$medians"; done
    echo >> "$medians"
    memory="peak resident memory: Arena $((peak / 1024)) MB, ffmpeg $((ffmpeg_peak / 1024)) MB; the same mix live (\`arena run\`, 20 s in real time) $((live_peak / 1024)) MB"
    # Each round's own Arena / floor ratio (the two run one after the other), against this
    # machine's speed drifting between rounds.
    paired=$(paste <(printf "%s" "${cpu[arena]}") <(printf "%s" "${cpu[floor]}") | awk '{ printf "%.2f\n", $1 / $2 }')
    rounds_line="Arena / floor CPU, round by round: $(echo $paired) (median $(printf "%s\n" "$paired" | median))"
    echo; echo "$case: $memory"; echo "$table"; echo "$rounds_line"; echo
    {
        echo; machine_heading "$hosts hosts, ${width}x${height}, 20 s, medians of $rounds"
        echo; echo "\`benchmarks/jobs.sh $rounds $case\` · $memory"
        echo; echo "$table"
        echo; echo "$rounds_line"
    } >> "$root/benchmarks/RESULTS.md"
    rm -f "$work/frames-$case.yuv" "$work/sound-$case.raw"
done

# The chart: CPU seconds of each job by number of hosts, 720x1280 cases of this run.
if command -v gnuplot > /dev/null && [ "$(awk '$2 == 720' "$medians" | wc -l)" -ge 2 ]; then
    awk '$2 == 720' "$medians" | sort -n > "$work/cpu-720.tsv"
    tics=$(awk '{ printf "%s\"%s\" %s", (NR > 1 ? ", " : ""), $1, $1 }' "$work/cpu-720.tsv")
    gnuplot <<PLOT
set terminal pngcairo size 900,540 font "DejaVu Sans,11"
set output "$root/benchmarks/cpu-by-hosts.png"
set title "CPU seconds for a 20 s 720x1280 job ($(date -u +%Y-%m-%d), $(nproc) cores, medians of $rounds)"
set xlabel "hosts"; set ylabel "CPU seconds"; set key top left; set grid
set xtics ($tics)
set yrange [0:*]
plot "$work/cpu-720.tsv" using 1:4 with linespoints lw 2 title "Arena (all overlays)", \
     "" using 1:5 with linespoints lw 2 title "ffmpeg, same job", \
     "" using 1:6 with linespoints lw 2 title "gst-launch, compositor scaling", \
     "" using 1:7 with linespoints lw 2 dt 2 title "floor: decode + encode"
PLOT
    echo "chart: benchmarks/cpu-by-hosts.png"
fi
