#include "StreamFormat.h"

#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>

GstVideoFormat arena_video_format(enum AVPixelFormat format) {
    switch (format) {
    case AV_PIX_FMT_YUV420P: case AV_PIX_FMT_YUVJ420P: return GST_VIDEO_FORMAT_I420;
    case AV_PIX_FMT_NV12: return GST_VIDEO_FORMAT_NV12;
    case AV_PIX_FMT_YUV422P: case AV_PIX_FMT_YUVJ422P: return GST_VIDEO_FORMAT_Y42B;
    case AV_PIX_FMT_YUV444P: case AV_PIX_FMT_YUVJ444P: return GST_VIDEO_FORMAT_Y444;
    case AV_PIX_FMT_GBRP: return GST_VIDEO_FORMAT_GBR;
    case AV_PIX_FMT_GRAY8: return GST_VIDEO_FORMAT_GRAY8;
    case AV_PIX_FMT_YUV420P10LE: return GST_VIDEO_FORMAT_I420_10LE;
    case AV_PIX_FMT_YUV422P10LE: return GST_VIDEO_FORMAT_I422_10LE;
    case AV_PIX_FMT_YUV444P10LE: return GST_VIDEO_FORMAT_Y444_10LE;
    case AV_PIX_FMT_GBRP10LE: return GST_VIDEO_FORMAT_GBR_10LE;
    case AV_PIX_FMT_YUV420P12LE: return GST_VIDEO_FORMAT_I420_12LE;
    case AV_PIX_FMT_YUV422P12LE: return GST_VIDEO_FORMAT_I422_12LE;
    case AV_PIX_FMT_YUV444P12LE: return GST_VIDEO_FORMAT_Y444_12LE;
    case AV_PIX_FMT_GBRP12LE: return GST_VIDEO_FORMAT_GBR_12LE;
    default: return GST_VIDEO_FORMAT_UNKNOWN;
    }
}

void arena_fill_colorimetry(GstVideoColorimetry *c, const AVFrame *p) {
    if (c->matrix == GST_VIDEO_COLOR_MATRIX_UNKNOWN) {
        switch (p->colorspace) {
        case AVCOL_SPC_RGB: c->matrix = GST_VIDEO_COLOR_MATRIX_RGB; break;
        case AVCOL_SPC_BT709: c->matrix = GST_VIDEO_COLOR_MATRIX_BT709; break;
        case AVCOL_SPC_FCC: c->matrix = GST_VIDEO_COLOR_MATRIX_FCC; break;
        case AVCOL_SPC_BT470BG: case AVCOL_SPC_SMPTE170M: c->matrix = GST_VIDEO_COLOR_MATRIX_BT601; break;
        case AVCOL_SPC_SMPTE240M: c->matrix = GST_VIDEO_COLOR_MATRIX_SMPTE240M; break;
        case AVCOL_SPC_BT2020_NCL: c->matrix = GST_VIDEO_COLOR_MATRIX_BT2020; break;
        default: break;
        }
    }
    if (c->primaries == GST_VIDEO_COLOR_PRIMARIES_UNKNOWN) c->primaries = gst_video_color_primaries_from_iso((guint)p->color_primaries);
    if (c->transfer == GST_VIDEO_TRANSFER_UNKNOWN) c->transfer = gst_video_transfer_function_from_iso((guint)p->color_trc);
    if (c->range == GST_VIDEO_COLOR_RANGE_UNKNOWN) {
        gboolean full = p->color_range == AVCOL_RANGE_JPEG || p->format == AV_PIX_FMT_YUVJ420P || p->format == AV_PIX_FMT_YUVJ422P ||
                        p->format == AV_PIX_FMT_YUVJ444P;
        c->range = full ? GST_VIDEO_COLOR_RANGE_0_255 : GST_VIDEO_COLOR_RANGE_16_235;
    }
}

int arena_plane_rows(const AVFrame *p, int plane) {
    // Planes 1 and 2 are the chroma (or, for GBR, B and R, which are not subsampled).
    return plane == 1 || plane == 2 ? AV_CEIL_RSHIFT(p->height, av_pix_fmt_desc_get(p->format)->log2_chroma_h) : p->height;
}

size_t arena_plane_size(const AVFrame *p, int plane) {
    int rows = arena_plane_rows(p, plane), row = av_image_get_linesize(p->format, p->width, plane);
    return rows > 0 && row > 0 ? (size_t)p->linesize[plane] * (size_t)(rows - 1) + (size_t)row : 0;
}
