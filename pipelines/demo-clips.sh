#!/bin/sh
# Makes the demo's host clips with GStreamer test sources: each shows a moving pattern on
# its own colour with the host's name, and has a tone of its own. Sizes, shapes and frame
# rates differ on purpose, as real phones' streams do; like theirs, the video is 8-bit 4:2:0
# H.264 (x264enc would otherwise take its first format, 4:4:4, from videoconvert).
#   usage: pipelines/demo-clips.sh OUT_DIR [SECONDS]
set -eu
out=${1:?usage: demo-clips.sh OUT_DIR [SECONDS]}
seconds=${2:-20}
mkdir -p "$out"

clip() { # name width height fps background-ARGB tone-Hz
    name=$1 width=$2 height=$3 fps=$4 colour=$5 tone=$6
    file="$out/$(echo "$name" | tr 'A-Z' 'a-z').mp4"
    [ -s "$file" ] && [ "$file" -nt "$0" ] && return 0
    gst-launch-1.0 -q -e \
        videotestsrc pattern=ball background-color="$colour" foreground-color=0xFFFFFFFF num-buffers=$((seconds * fps)) \
        ! "video/x-raw,width=$width,height=$height,framerate=$fps/1" \
        ! textoverlay text="$name" font-desc="DejaVu Sans Bold $(( (width < height ? width : height) / 14 ))" valignment=center halignment=center shaded-background=true \
        ! videoconvert ! video/x-raw,format=I420 ! x264enc speed-preset=veryfast bitrate=2500 key-int-max=$((2 * fps)) ! h264parse \
        ! mp4mux name=mux ! filesink location="$file.tmp" \
        audiotestsrc freq="$tone" volume=0.2 num-buffers=$((seconds * 48000 / 1024 + 1)) samplesperbuffer=1024 \
        ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac ! mux.
    mv "$file.tmp" "$file"
}

clip Alice 1280 720 30 0xFF2D5BD8 440   # a landscape webcam
clip Bob 720 1280 30 0xFFD8452D 554     # a phone, portrait
clip Carol 640 480 25 0xFF2DA05A 659    # an old 4:3 camera at 25 fps
clip Dave 1080 1920 30 0xFF8E44AD 740   # a 1080p phone
