#include "CArenaDecoder.h"

#include <gst/gst.h>
#include <gst/video/video.h>
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <string.h>

// arenavideodec: parsed H.264 or H.265 access units in (from h264parse / h265parse), decoded
// pictures out. Each input frame's system_frame_number rides through libav as the packet's
// pts, so a picture finds its GstVideoCodecFrame after reordering, as avdec's does. Output
// buffers are one read-only GstMemory per plane wrapped around libav's planes, each holding an
// AVFrame reference (libav recycles the planes through its own pool once all are released),
// and a GstVideoMeta with libav's strides.

typedef struct {
    GstVideoDecoder parent;
    AVCodecContext *context;
    AVFrame *picture;
    AVPacket *packet;
    guint8 *padded;          // the access unit, copied with the zeroed tail libav reads past it
    gsize padded_size;
    GstVideoCodecState *input;
    gboolean wrap;           // downstream takes GstVideoMeta: hand libav's planes over
    gint format, width, height;  // the picture format the output state was made for
    gint max_threads;
} ArenaVideoDec;

typedef struct {
    GstVideoDecoderClass parent_class;
} ArenaVideoDecClass;

G_DEFINE_TYPE(ArenaVideoDec, arena_video_dec, GST_TYPE_VIDEO_DECODER)

enum { PROP_0, PROP_MAX_THREADS };
/// Frames older in decoding order than this many behind a decoded picture never get one
/// (parameter sets, pictures libav refused): their GstVideoCodecFrames are let go.
enum { FORGOTTEN_AFTER = 32 };

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-h264, stream-format = (string) { avc, avc3, byte-stream }, alignment = (string) au; "
                    "video/x-h265, stream-format = (string) { hvc1, hev1, byte-stream }, alignment = (string) au"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("{ I420, NV12, Y42B, Y444, GRAY8, I420_10LE, I422_10LE, Y444_10LE }")));

static GstVideoFormat video_format(enum AVPixelFormat format) {
    switch (format) {
    case AV_PIX_FMT_YUV420P: case AV_PIX_FMT_YUVJ420P: return GST_VIDEO_FORMAT_I420;
    case AV_PIX_FMT_NV12: return GST_VIDEO_FORMAT_NV12;
    case AV_PIX_FMT_YUV422P: case AV_PIX_FMT_YUVJ422P: return GST_VIDEO_FORMAT_Y42B;
    case AV_PIX_FMT_YUV444P: case AV_PIX_FMT_YUVJ444P: return GST_VIDEO_FORMAT_Y444;
    case AV_PIX_FMT_GRAY8: return GST_VIDEO_FORMAT_GRAY8;
    case AV_PIX_FMT_YUV420P10LE: return GST_VIDEO_FORMAT_I420_10LE;
    case AV_PIX_FMT_YUV422P10LE: return GST_VIDEO_FORMAT_I422_10LE;
    case AV_PIX_FMT_YUV444P10LE: return GST_VIDEO_FORMAT_Y444_10LE;
    default: return GST_VIDEO_FORMAT_UNKNOWN;
    }
}

/// Colorimetry the input caps leave unknown, from the stream (as avdec fills it in).
static void fill_colorimetry(GstVideoColorimetry *c, const AVFrame *p) {
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
    if (c->primaries == GST_VIDEO_COLOR_PRIMARIES_UNKNOWN) {
        c->primaries = gst_video_color_primaries_from_iso((guint)p->color_primaries);
    }
    if (c->transfer == GST_VIDEO_TRANSFER_UNKNOWN) {
        c->transfer = gst_video_transfer_function_from_iso((guint)p->color_trc);
    }
    if (c->range == GST_VIDEO_COLOR_RANGE_UNKNOWN) {
        gboolean full = p->color_range == AVCOL_RANGE_JPEG || p->format == AV_PIX_FMT_YUVJ420P ||
                        p->format == AV_PIX_FMT_YUVJ422P || p->format == AV_PIX_FMT_YUVJ444P;
        c->range = full ? GST_VIDEO_COLOR_RANGE_0_255 : GST_VIDEO_COLOR_RANGE_16_235;
    }
}

/// Makes the output state for `p`'s format and size, if it changed.
static gboolean negotiate_for(ArenaVideoDec *self, const AVFrame *p) {
    if (self->format == p->format && self->width == p->width && self->height == p->height) return TRUE;
    GstVideoFormat format = video_format(p->format);
    if (format == GST_VIDEO_FORMAT_UNKNOWN) {
        GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("The stream's pixel format %s cannot be decoded here.",
                          av_get_pix_fmt_name(p->format) ? av_get_pix_fmt_name(p->format) : "(unknown)"), (NULL));
        return FALSE;
    }
    GstVideoDecoder *decoder = GST_VIDEO_DECODER(self);
    GstVideoCodecState *state = gst_video_decoder_set_output_state(decoder, format, p->width, p->height, self->input);
    const GstStructure *in = gst_caps_get_structure(self->input->caps, 0);
    if (!gst_structure_has_field(in, "colorimetry")) memset(&state->info.colorimetry, 0, sizeof state->info.colorimetry);
    fill_colorimetry(&state->info.colorimetry, p);
    if (!gst_structure_has_field(in, "pixel-aspect-ratio") && p->sample_aspect_ratio.num > 0 && p->sample_aspect_ratio.den > 0) {
        state->info.par_n = p->sample_aspect_ratio.num;
        state->info.par_d = p->sample_aspect_ratio.den;
    }
    gint fps_n = state->info.fps_n, fps_d = state->info.fps_d;
    gst_video_codec_state_unref(state);
    if (!gst_video_decoder_negotiate(decoder)) return FALSE;
    self->format = p->format, self->width = p->width, self->height = p->height;
    if (fps_n > 0) {
        GstClockTime latency = gst_util_uint64_scale_ceil((guint64)self->context->has_b_frames * GST_SECOND, (guint64)fps_d, (guint64)fps_n);
        gst_video_decoder_set_latency(decoder, latency, latency);
    }
    return TRUE;
}

static void release_frame(gpointer frame) {
    AVFrame *reference = frame;
    av_frame_free(&reference);
}

/// A buffer around `p`'s planes, without copying them; NULL if out of memory.
static GstBuffer *wrap_planes(const AVFrame *p, GstVideoInfo *info) {
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(p->format);
    gsize offsets[GST_VIDEO_MAX_PLANES] = {0}, offset = 0;
    gint strides[GST_VIDEO_MAX_PLANES] = {0};
    guint planes = GST_VIDEO_INFO_N_PLANES(info);
    GstBuffer *buffer = gst_buffer_new();
    for (guint i = 0; i < planes; i++) {
        AVFrame *reference = av_frame_clone(p);
        if (!reference) {
            gst_buffer_unref(buffer);
            return NULL;
        }
        int rows = i == 0 ? p->height : AV_CEIL_RSHIFT(p->height, desc->log2_chroma_h);
        gsize size = (gsize)p->linesize[i] * (gsize)rows;
        gst_buffer_append_memory(buffer, gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY, reference->data[i], size, 0, size,
                                                                reference, release_frame));
        offsets[i] = offset, strides[i] = p->linesize[i];
        offset += size;
    }
    gst_buffer_add_video_meta_full(buffer, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(info), GST_VIDEO_INFO_WIDTH(info),
                                   GST_VIDEO_INFO_HEIGHT(info), planes, offsets, strides);
    return buffer;
}

/// `p`'s planes copied into a buffer from the negotiated pool (downstream without GstVideoMeta).
static GstFlowReturn copy_planes(ArenaVideoDec *self, const AVFrame *p, GstVideoCodecFrame *frame) {
    GstFlowReturn flow = gst_video_decoder_allocate_output_frame(GST_VIDEO_DECODER(self), frame);
    if (flow != GST_FLOW_OK) return flow;
    GstVideoCodecState *state = gst_video_decoder_get_output_state(GST_VIDEO_DECODER(self));
    GstVideoFrame out;
    gboolean mapped = gst_video_frame_map(&out, &state->info, frame->output_buffer, GST_MAP_WRITE);
    gst_video_codec_state_unref(state);
    if (!mapped) return GST_FLOW_ERROR;
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(p->format);
    for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES(&out); i++) {
        // Both strides hold a whole row, so the shorter one covers it.
        int rows = i == 0 ? p->height : AV_CEIL_RSHIFT(p->height, desc->log2_chroma_h);
        int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&out, i);
        av_image_copy_plane(GST_VIDEO_FRAME_PLANE_DATA(&out, i), stride, p->data[i], p->linesize[i], MIN(stride, p->linesize[i]), rows);
    }
    gst_video_frame_unmap(&out);
    return GST_FLOW_OK;
}

/// Lets go of frames that fell `FORGOTTEN_AFTER` behind `number` without a picture.
static void forget_frames_before(GstVideoDecoder *decoder, guint32 number) {
    GList *frames = gst_video_decoder_get_frames(decoder);
    for (GList *l = frames; l; l = l->next) {
        GstVideoCodecFrame *frame = l->data;
        if (frame->system_frame_number + FORGOTTEN_AFTER < number) gst_video_decoder_release_frame(decoder, gst_video_codec_frame_ref(frame));
    }
    g_list_free_full(frames, (GDestroyNotify)gst_video_codec_frame_unref);
}

/// Pushes every picture libav has ready.
static GstFlowReturn push_pictures(ArenaVideoDec *self) {
    GstVideoDecoder *decoder = GST_VIDEO_DECODER(self);
    GstFlowReturn flow = GST_FLOW_OK;
    while (flow == GST_FLOW_OK && avcodec_receive_frame(self->context, self->picture) == 0) {
        AVFrame *p = self->picture;
        GstVideoCodecFrame *frame = p->pts >= 0 && p->pts <= G_MAXUINT32 ? gst_video_decoder_get_frame(decoder, (int)p->pts) : NULL;
        if (!frame) {
            av_frame_unref(p);
            continue;
        }
        forget_frames_before(decoder, frame->system_frame_number);
        if (!negotiate_for(self, p)) {
            av_frame_unref(p);
            gst_video_decoder_drop_frame(decoder, frame);
            return GST_FLOW_NOT_NEGOTIATED;
        }
        if (self->wrap) {
            GstVideoCodecState *state = gst_video_decoder_get_output_state(decoder);
            frame->output_buffer = wrap_planes(p, &state->info);
            gst_video_codec_state_unref(state);
            if (!frame->output_buffer) flow = GST_FLOW_ERROR;
        } else {
            flow = copy_planes(self, p, frame);
        }
        if (flow == GST_FLOW_OK && (p->flags & AV_FRAME_FLAG_CORRUPT))
            GST_BUFFER_FLAG_SET(frame->output_buffer, GST_BUFFER_FLAG_CORRUPTED);
        av_frame_unref(p);
        flow = flow == GST_FLOW_OK ? gst_video_decoder_finish_frame(decoder, frame) : (gst_video_decoder_drop_frame(decoder, frame), flow);
    }
    return flow;
}

static void close_codec(ArenaVideoDec *self) {
    avcodec_free_context(&self->context);
    self->format = AV_PIX_FMT_NONE, self->width = self->height = 0;
}

/// Decodes what libav still holds (end of stream, or new caps) and resets it for more.
static GstFlowReturn drain(GstVideoDecoder *decoder) {
    ArenaVideoDec *self = (ArenaVideoDec *)decoder;
    if (!self->context) return GST_FLOW_OK;
    avcodec_send_packet(self->context, NULL);
    GstFlowReturn flow = push_pictures(self);
    avcodec_flush_buffers(self->context);
    return flow;
}

static gboolean set_format(GstVideoDecoder *decoder, GstVideoCodecState *state) {
    ArenaVideoDec *self = (ArenaVideoDec *)decoder;
    if (self->context) {
        drain(decoder);
        close_codec(self);
    }
    GstStructure *s = gst_caps_get_structure(state->caps, 0);
    const AVCodec *codec = avcodec_find_decoder(gst_structure_has_name(s, "video/x-h265") ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
    if (!codec || !(self->context = avcodec_alloc_context3(codec))) return FALSE;
    if (state->codec_data) {
        GstMapInfo map;
        if (!gst_buffer_map(state->codec_data, &map, GST_MAP_READ)) return FALSE;
        self->context->extradata = av_mallocz(map.size + AV_INPUT_BUFFER_PADDING_SIZE);
        if (self->context->extradata) memcpy(self->context->extradata, map.data, map.size), self->context->extradata_size = (int)map.size;
        gst_buffer_unmap(state->codec_data, &map);
    }
    // As avdec: max-threads 0 is libav's choice; frame threads only when the input is not
    // live (each holds a frame back).
    GstQuery *query = gst_query_new_latency();
    gboolean live = FALSE;
    if (gst_pad_peer_query(GST_VIDEO_DECODER_SINK_PAD(decoder), query)) gst_query_parse_latency(query, &live, NULL, NULL);
    gst_query_unref(query);
    self->context->thread_count = self->max_threads;
    self->context->thread_type = live ? FF_THREAD_SLICE : FF_THREAD_SLICE | FF_THREAD_FRAME;
    if (avcodec_open2(self->context, codec, NULL) < 0) {
        close_codec(self);
        return FALSE;
    }
    if (self->input) gst_video_codec_state_unref(self->input);
    self->input = gst_video_codec_state_ref(state);
    return TRUE;
}

static GstFlowReturn handle_frame(GstVideoDecoder *decoder, GstVideoCodecFrame *frame) {
    ArenaVideoDec *self = (ArenaVideoDec *)decoder;
    if (!self->context) {
        gst_video_decoder_drop_frame(decoder, frame);
        return GST_FLOW_NOT_NEGOTIATED;
    }
    GstMapInfo map;
    if (!gst_buffer_map(frame->input_buffer, &map, GST_MAP_READ)) {
        gst_video_decoder_drop_frame(decoder, frame);
        return GST_FLOW_ERROR;
    }
    if (self->padded_size < map.size + AV_INPUT_BUFFER_PADDING_SIZE) {
        self->padded_size = map.size + AV_INPUT_BUFFER_PADDING_SIZE;
        self->padded = g_realloc(self->padded, self->padded_size);
    }
    memcpy(self->padded, map.data, map.size);
    memset(self->padded + map.size, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    self->packet->data = self->padded;
    self->packet->size = (int)map.size;
    self->packet->pts = frame->system_frame_number;
    self->packet->flags = GST_VIDEO_CODEC_FRAME_IS_SYNC_POINT(frame) ? AV_PKT_FLAG_KEY : 0;
    gst_buffer_unmap(frame->input_buffer, &map);

    int sent = avcodec_send_packet(self->context, self->packet);
    GstFlowReturn flow = push_pictures(self);
    if (sent == AVERROR(EAGAIN)) {  // libav was full: its pictures went out above, so it takes the packet now
        sent = avcodec_send_packet(self->context, self->packet);
        if (flow == GST_FLOW_OK) flow = push_pictures(self);
    }
    if (sent < 0) {  // a picture libav refused: dropped (a repairing decoder asks for a keyframe), counted as an error
        gst_video_decoder_drop_frame(decoder, frame);
        char reason[AV_ERROR_MAX_STRING_SIZE] = {0};
        av_strerror(sent, reason, sizeof reason);
        if (flow == GST_FLOW_OK)
            GST_VIDEO_DECODER_ERROR(decoder, 1, STREAM, DECODE, ("Could not decode a picture of the stream."), ("libav: %s", reason), flow);
        return flow;
    }
    gst_video_codec_frame_unref(frame);  // the base class keeps it in its list until its picture comes, or it is let go
    return flow;
}

static gboolean decide_allocation(GstVideoDecoder *decoder, GstQuery *query) {
    ((ArenaVideoDec *)decoder)->wrap = gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, NULL);
    return GST_VIDEO_DECODER_CLASS(arena_video_dec_parent_class)->decide_allocation(decoder, query);
}

static gboolean flush(GstVideoDecoder *decoder) {
    ArenaVideoDec *self = (ArenaVideoDec *)decoder;
    if (self->context) avcodec_flush_buffers(self->context);
    return TRUE;
}

static gboolean start(GstVideoDecoder *decoder) {
    ArenaVideoDec *self = (ArenaVideoDec *)decoder;
    self->picture = av_frame_alloc();
    self->packet = av_packet_alloc();
    return self->picture && self->packet;
}

static gboolean stop(GstVideoDecoder *decoder) {
    ArenaVideoDec *self = (ArenaVideoDec *)decoder;
    close_codec(self);
    av_frame_free(&self->picture);
    av_packet_free(&self->packet);
    g_clear_pointer(&self->padded, g_free);
    self->padded_size = 0;
    g_clear_pointer(&self->input, gst_video_codec_state_unref);
    return TRUE;
}

static void set_property(GObject *object, guint id, const GValue *value, GParamSpec *spec) {
    if (id == PROP_MAX_THREADS) ((ArenaVideoDec *)object)->max_threads = g_value_get_int(value);
    else G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, spec);
}

static void get_property(GObject *object, guint id, GValue *value, GParamSpec *spec) {
    if (id == PROP_MAX_THREADS) g_value_set_int(value, ((ArenaVideoDec *)object)->max_threads);
    else G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, spec);
}

static void arena_video_dec_class_init(ArenaVideoDecClass *klass) {
    GObjectClass *object = G_OBJECT_CLASS(klass);
    object->set_property = set_property;
    object->get_property = get_property;
    g_object_class_install_property(object, PROP_MAX_THREADS,
        g_param_spec_int("max-threads", "Maximum threads", "Decoding threads (0: libav's choice)", 0, 64, 0,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
    GstElementClass *element = GST_ELEMENT_CLASS(klass);
    gst_element_class_add_static_pad_template(element, &sink_template);
    gst_element_class_add_static_pad_template(element, &src_template);
    gst_element_class_set_static_metadata(element, "Arena H.264/H.265 decoder", "Codec/Decoder/Video",
                                          "libavcodec, handing its pictures downstream without a copy", "Arena");
    GstVideoDecoderClass *video = GST_VIDEO_DECODER_CLASS(klass);
    video->start = start;
    video->stop = stop;
    video->set_format = set_format;
    video->handle_frame = handle_frame;
    video->finish = drain;
    video->drain = drain;
    video->flush = flush;
    video->decide_allocation = decide_allocation;
}

static void arena_video_dec_init(ArenaVideoDec *self) {
    self->format = AV_PIX_FMT_NONE;
    gst_video_decoder_set_packetized(GST_VIDEO_DECODER(self), TRUE);
    gst_video_decoder_set_needs_format(GST_VIDEO_DECODER(self), TRUE);
}

int arena_video_decoder_register(void) {
    return gst_element_register(NULL, "arenavideodec", GST_RANK_PRIMARY + 1, arena_video_dec_get_type()) ? 0 : -1;
}
