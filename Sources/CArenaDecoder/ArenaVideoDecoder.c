#include "CArenaDecoder.h"
#include "StreamFormat.h"

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
    GstVideoCodecState *input;
    gboolean wrap;           // downstream takes GstVideoMeta: hand libav's planes over
    gint format, width, height, sar_num, sar_den;  // the pictures the output state was made for
    gint max_threads;
} ArenaVideoDec;

typedef struct {
    GstVideoDecoderClass parent_class;
} ArenaVideoDecClass;

G_DEFINE_TYPE(ArenaVideoDec, arena_video_dec, GST_TYPE_VIDEO_DECODER)

enum { PROP_0, PROP_MAX_THREADS };
/// Frames this far behind the newest in decoding order will get no picture (parameter sets,
/// pictures libav refused or skipped waiting for a keyframe): they are let go. H.264 and H.265
/// reorder at most 16 pictures, and frame threads hold a few more.
enum { FORGOTTEN_AFTER = 64 };

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-h264, stream-format = (string) { avc, avc3, byte-stream }, alignment = (string) au; "
                    "video/x-h265, stream-format = (string) { hvc1, hev1, byte-stream }, alignment = (string) au"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("{ I420, NV12, Y42B, Y444, GBR, GRAY8, I420_10LE, I422_10LE, Y444_10LE, GBR_10LE, "
                                        "I420_12LE, I422_12LE, Y444_12LE, GBR_12LE }")));

/// Makes the output state for `p`'s format, size and pixel shape, if they changed.
static gboolean negotiate_for(ArenaVideoDec *self, const AVFrame *p) {
    if (self->format == p->format && self->width == p->width && self->height == p->height &&
        self->sar_num == p->sample_aspect_ratio.num && self->sar_den == p->sample_aspect_ratio.den)
        return TRUE;
    GstVideoFormat format = arena_video_format(p->format);
    if (format == GST_VIDEO_FORMAT_UNKNOWN) {
        GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("The stream's pixel format %s cannot be decoded here.",
                          av_get_pix_fmt_name(p->format) ? av_get_pix_fmt_name(p->format) : "(unknown)"), (NULL));
        return FALSE;
    }
    GstVideoDecoder *decoder = GST_VIDEO_DECODER(self);
    GstVideoCodecState *state = gst_video_decoder_set_output_state(decoder, format, p->width, p->height, self->input);
    if (!state) return FALSE;
    const GstStructure *in = gst_caps_get_structure(self->input->caps, 0);
    if (!gst_structure_has_field(in, "colorimetry")) memset(&state->info.colorimetry, 0, sizeof state->info.colorimetry);
    arena_fill_colorimetry(&state->info.colorimetry, p);
    if (!gst_structure_has_field(in, "pixel-aspect-ratio") && p->sample_aspect_ratio.num > 0 && p->sample_aspect_ratio.den > 0) {
        state->info.par_n = p->sample_aspect_ratio.num;
        state->info.par_d = p->sample_aspect_ratio.den;
    }
    gint fps_n = state->info.fps_n, fps_d = state->info.fps_d;
    gst_video_codec_state_unref(state);
    if (!gst_video_decoder_negotiate(decoder)) return FALSE;
    self->format = p->format, self->width = p->width, self->height = p->height;
    self->sar_num = p->sample_aspect_ratio.num, self->sar_den = p->sample_aspect_ratio.den;
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
        gsize size = arena_plane_size(p, (int)i);
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
    for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES(&out); i++)
        av_image_copy_plane(GST_VIDEO_FRAME_PLANE_DATA(&out, i), GST_VIDEO_FRAME_PLANE_STRIDE(&out, i), p->data[i], p->linesize[i],
                            av_image_get_linesize(p->format, p->width, (int)i), arena_plane_rows(p, (int)i));
    gst_video_frame_unmap(&out);
    return GST_FLOW_OK;
}

/// Lets go of frames that fell `FORGOTTEN_AFTER` behind `number` (the newest) without a
/// picture: the base class keeps its frames in decoding order, so only the oldest need looking at.
static void forget_frames_before(GstVideoDecoder *decoder, guint32 number) {
    GstVideoCodecFrame *oldest;
    while ((oldest = gst_video_decoder_get_oldest_frame(decoder)) && oldest->system_frame_number + FORGOTTEN_AFTER < number)
        gst_video_decoder_release_frame(decoder, oldest);
    if (oldest) gst_video_codec_frame_unref(oldest);
}

/// With the base class's automatic-request-sync-points on (live inputs), asks upstream for a
/// keyframe: a picture was broken or refused, and what follows would show the damage.
static void ask_for_keyframe(GstVideoDecoder *decoder, GstVideoCodecFrame *frame) {
    gboolean automatic = FALSE;
    GstVideoDecoderRequestSyncPointFlags flags = 0;
    g_object_get(decoder, "automatic-request-sync-points", &automatic, "automatic-request-sync-point-flags", &flags, NULL);
    if (automatic) gst_video_decoder_request_sync_point(decoder, frame, flags);
}

/// NOT_NEGOTIATED, or FLUSHING when negotiation failed because a seek or a stop is under way.
static GstFlowReturn not_negotiated(GstVideoDecoder *decoder) {
    return GST_PAD_IS_FLUSHING(GST_VIDEO_DECODER_SRC_PAD(decoder)) ? GST_FLOW_FLUSHING : GST_FLOW_NOT_NEGOTIATED;
}

/// `p` as `frame`'s output buffer: libav's planes, or a copy of them.
static GstFlowReturn make_output(ArenaVideoDec *self, const AVFrame *p, GstVideoCodecFrame *frame) {
    GstVideoDecoder *decoder = GST_VIDEO_DECODER(self);
    if (!negotiate_for(self, p)) return not_negotiated(decoder);
    // Downstream may have changed what it takes (a reconfigure): negotiate again before choosing.
    if (gst_pad_check_reconfigure(GST_VIDEO_DECODER_SRC_PAD(decoder)) && !gst_video_decoder_negotiate(decoder)) {
        gst_pad_mark_reconfigure(GST_VIDEO_DECODER_SRC_PAD(decoder));
        return not_negotiated(decoder);
    }
    if (!self->wrap) return copy_planes(self, p, frame);
    GstVideoCodecState *state = gst_video_decoder_get_output_state(decoder);
    frame->output_buffer = wrap_planes(p, &state->info);
    gst_video_codec_state_unref(state);
    return frame->output_buffer ? GST_FLOW_OK : GST_FLOW_ERROR;
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
        flow = make_output(self, p, frame);
        if (flow == GST_FLOW_OK && ((p->flags & AV_FRAME_FLAG_CORRUPT) || p->decode_error_flags)) {
            GST_BUFFER_FLAG_SET(frame->output_buffer, GST_BUFFER_FLAG_CORRUPTED);
            ask_for_keyframe(decoder, frame);
        }
        av_frame_unref(p);
        if (flow == GST_FLOW_OK) flow = gst_video_decoder_finish_frame(decoder, frame);
        else gst_video_decoder_drop_frame(decoder, frame);
    }
    return flow;
}

static void close_codec(ArenaVideoDec *self) {
    avcodec_free_context(&self->context);
    self->format = AV_PIX_FMT_NONE, self->width = self->height = self->sar_num = self->sar_den = 0;
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

/// Opens libav's decoder for `state`'s codec and codec data; FALSE (with an error posted) if it cannot.
static gboolean open_codec(ArenaVideoDec *self, GstVideoCodecState *state) {
    GstStructure *s = gst_caps_get_structure(state->caps, 0);
    gboolean hevc = gst_structure_has_name(s, "video/x-h265");
    const AVCodec *codec = avcodec_find_decoder(hevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
    if (!codec || !(self->context = avcodec_alloc_context3(codec))) goto failed;
    if (state->codec_data) {
        GstMapInfo map;
        if (!gst_buffer_map(state->codec_data, &map, GST_MAP_READ)) goto failed;
        self->context->extradata = av_mallocz(map.size + AV_INPUT_BUFFER_PADDING_SIZE);
        if (self->context->extradata) memcpy(self->context->extradata, map.data, map.size), self->context->extradata_size = (int)map.size;
        gst_buffer_unmap(state->codec_data, &map);
        if (!self->context->extradata) goto failed;
    }
    // As avdec: max-threads 0 is libav's choice; frame threads only when the input is not
    // live (each holds a frame back); pictures with concealed damage come out marked.
    GstQuery *query = gst_query_new_latency();
    gboolean live = FALSE;
    if (gst_pad_peer_query(GST_VIDEO_DECODER_SINK_PAD(self), query)) gst_query_parse_latency(query, &live, NULL, NULL);
    gst_query_unref(query);
    self->context->thread_count = self->max_threads;
    self->context->thread_type = live ? FF_THREAD_SLICE : FF_THREAD_SLICE | FF_THREAD_FRAME;
    self->context->flags |= AV_CODEC_FLAG_OUTPUT_CORRUPT;
    if (avcodec_open2(self->context, codec, NULL) < 0) goto failed;
    return TRUE;
failed:
    close_codec(self);
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("Could not start the %s decoder for this stream.", hevc ? "H.265" : "H.264"), (NULL));
    return FALSE;
}

static gboolean set_format(GstVideoDecoder *decoder, GstVideoCodecState *state) {
    ArenaVideoDec *self = (ArenaVideoDec *)decoder;
    if (self->context) {
        drain(decoder);
        close_codec(self);
    }
    if (!open_codec(self, state)) return FALSE;
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
    forget_frames_before(decoder, frame->system_frame_number);
    GstMapInfo map;
    if (!gst_buffer_map(frame->input_buffer, &map, GST_MAP_READ)) {
        gst_video_decoder_drop_frame(decoder, frame);
        return GST_FLOW_ERROR;
    }
    // Not reference-counted, so libav copies it, with the zeroed tail its readers need.
    self->packet->data = map.data;
    self->packet->size = (int)map.size;
    self->packet->pts = frame->system_frame_number;
    self->packet->flags = GST_VIDEO_CODEC_FRAME_IS_SYNC_POINT(frame) ? AV_PKT_FLAG_KEY : 0;
    int sent = avcodec_send_packet(self->context, self->packet);
    GstFlowReturn flow = push_pictures(self);
    if (sent == AVERROR(EAGAIN)) {  // libav was full: its pictures went out above, so it takes the packet now
        sent = avcodec_send_packet(self->context, self->packet);
        if (flow == GST_FLOW_OK) flow = push_pictures(self);
    }
    gst_buffer_unmap(frame->input_buffer, &map);
    self->packet->data = NULL, self->packet->size = 0;
    if (sent < 0) {
        // A refusal (with frame threads it may be an earlier packet's): a keyframe is asked for
        // and the error counted. A packet libav did not take gets no picture.
        ask_for_keyframe(decoder, frame);
        char reason[AV_ERROR_MAX_STRING_SIZE] = {0};
        av_strerror(sent, reason, sizeof reason);
        if (flow == GST_FLOW_OK)
            GST_VIDEO_DECODER_ERROR(decoder, 1, STREAM, DECODE, ("Could not decode a picture of the stream."), ("libav: %s", reason), flow);
        if (sent == AVERROR(EAGAIN) || sent == AVERROR(EINVAL) || sent == AVERROR(ENOMEM)) {
            gst_video_decoder_drop_frame(decoder, frame);
            return flow;
        }
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
