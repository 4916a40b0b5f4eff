#ifndef ARENA_DECODER_H
#define ARENA_DECODER_H

// Plain C types only, as in CArenaShim: GStreamer's declarations belong to CGStreamer.

/// Registers `arenavideodec` with GStreamer (once per process; call after gst_init): an
/// H.264 and H.265 decoder on libavcodec that hands each decoded picture downstream without
/// copying it. GStreamer's avdec_h264 copies every picture once, into a buffer of its own or
/// (direct rendering) when libav still holds it as a reference; here the output buffer wraps
/// libav's own planes, read-only, and holds a reference to them until downstream lets go.
/// Ranked above avdec_h264 and avdec_h265, so decodebin picks it. Downstream that cannot
/// take libav's strides (no GstVideoMeta) gets a copy, as from avdec. Returns 0, or -1.
int arena_video_decoder_register(void);

#endif
