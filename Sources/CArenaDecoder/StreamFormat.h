#ifndef ARENA_STREAM_FORMAT_H
#define ARENA_STREAM_FORMAT_H

#include <gst/video/video.h>
#include <libavcodec/avcodec.h>

// What a decoded libav picture is in GStreamer's terms: its format, its colours, its planes.

/// GStreamer's name for libav's pixel format; GST_VIDEO_FORMAT_UNKNOWN if there is none here.
GstVideoFormat arena_video_format(enum AVPixelFormat format);

/// Fills what `colorimetry` leaves unknown from the picture's colour description, as avdec does.
void arena_fill_colorimetry(GstVideoColorimetry *colorimetry, const AVFrame *picture);

/// The rows of plane `plane` of `picture`.
int arena_plane_rows(const AVFrame *picture, int plane);

/// The bytes of plane `plane` that hold pixels: whole rows of stride, then the last row's
/// pixels only (libav crops by moving the plane pointers, so a full last stride may run past
/// its allocation).
size_t arena_plane_size(const AVFrame *picture, int plane);

#endif
