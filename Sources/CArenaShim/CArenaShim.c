#include "CArenaShim.h"

#include <gst/gst.h>
#include <string.h>

void arena_probe_info_set_flow_return(void *info, int flow) {
    GST_PAD_PROBE_INFO_FLOW_RETURN((GstPadProbeInfo *)info) = (GstFlowReturn)flow;
}

// MARK: Symmetric RTCP

#include <gio/gio.h>
#include <gst/net/gstnetaddressmeta.h>

typedef struct {
    GMutex lock;
    GSocketAddress *sender;  // where to send: fixed, or learned from the peer
    gboolean fixed;
    gint heard;              // (atomic) the peer's own RTCP came: no more guessing from its RTP
    guint16 offset;          // the peer's RTCP port less its RTP port, guessed: 1 (a port pair) or 0 (rtcp-mux)
    GInetAddress *media;     // where the peer's RTP comes from (its RTCP must come from there too)
    GWeakRef source;         // the udpsrc receiving the peer's RTCP (its socket sends); weak: it holds the probes
} RtcpPeer;

static void rtcp_peer_clear(gpointer data) {
    RtcpPeer *peer = data;
    if (peer->sender) g_object_unref(peer->sender);
    if (peer->media) g_object_unref(peer->media);
    g_weak_ref_clear(&peer->source);
    g_mutex_clear(&peer->lock);
}

static void rtcp_peer_release(gpointer data) {
    g_atomic_rc_box_release_full(data, rtcp_peer_clear);
}

/// The sender's RTCP, once its RTP has come from the same address (with `allowedSenders`,
/// only from one of those): anyone else who reaches the port cannot point our RTCP elsewhere.
static GstPadProbeReturn rtcp_note_sender(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    RtcpPeer *peer = data;
    GstNetAddressMeta *meta = gst_buffer_get_net_address_meta(GST_PAD_PROBE_INFO_BUFFER(info));
    if (peer->fixed || meta == NULL || !G_IS_INET_SOCKET_ADDRESS(meta->addr)) return GST_PAD_PROBE_OK;
    GInetAddress *from = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(meta->addr));
    g_mutex_lock(&peer->lock);
    if (peer->media && g_inet_address_equal(from, peer->media)) {
        if (peer->sender == NULL || !g_inet_address_equal(from, g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(peer->sender)))
            || g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(peer->sender)) != g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(meta->addr))) {
            if (peer->sender) g_object_unref(peer->sender);
            peer->sender = g_object_ref(meta->addr);
        }
        g_atomic_int_set(&peer->heard, 1);
    }
    g_mutex_unlock(&peer->lock);
    return GST_PAD_PROBE_OK;
}

/// Notes where the RTP comes from; before the peer's RTCP, guesses its RTCP port (RTP's + 1, or RTP's with rtcp-mux).
static GstPadProbeReturn rtcp_note_media(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    RtcpPeer *peer = data;
    GstNetAddressMeta *meta = gst_buffer_get_net_address_meta(GST_PAD_PROBE_INFO_BUFFER(info));
    if (peer->fixed || meta == NULL || !G_IS_INET_SOCKET_ADDRESS(meta->addr)) return GST_PAD_PROBE_OK;
    GInetSocketAddress *from = G_INET_SOCKET_ADDRESS(meta->addr);
    GInetAddress *address = g_inet_socket_address_get_address(from);
    guint16 port = g_inet_socket_address_get_port(from);
    g_mutex_lock(&peer->lock);
    gboolean moved = peer->media == NULL || !g_inet_address_equal(address, peer->media);
    if (moved) {
        if (peer->media) g_object_unref(peer->media);
        peer->media = g_object_ref(address);
    }
    if (!g_atomic_int_get(&peer->heard) && port + peer->offset <= 65535
        && (moved || peer->sender == NULL || g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(peer->sender)) != port + peer->offset)) {
        if (peer->sender) g_object_unref(peer->sender);
        peer->sender = g_inet_socket_address_new(address, port + peer->offset);
    }
    if (moved) g_atomic_int_set(&peer->heard, 0);  // a sender elsewhere: its RTCP is learned anew
    g_mutex_unlock(&peer->lock);
    return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn rtcp_answer(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    RtcpPeer *peer = data;
    g_mutex_lock(&peer->lock);
    GSocketAddress *to = peer->sender ? g_object_ref(peer->sender) : NULL;
    g_mutex_unlock(&peer->lock);
    GstElement *source = g_weak_ref_get(&peer->source);
    GSocket *socket = NULL;
    if (to && source) g_object_get(source, "used-socket", &socket, NULL);
    GstMapInfo map;
    if (socket && gst_buffer_map(GST_PAD_PROBE_INFO_BUFFER(info), &map, GST_MAP_READ)) {
        g_socket_send_to(socket, to, (const gchar *)map.data, map.size, NULL, NULL);  // best effort, as UDP
        gst_buffer_unmap(GST_PAD_PROBE_INFO_BUFFER(info), &map);
    }
    if (socket) g_object_unref(socket);
    if (source) gst_object_unref(source);
    if (to) g_object_unref(to);
    return GST_PAD_PROBE_DROP;
}

void arena_rtcp_send_through(void *socket_source, void *rtcp_out, const char *host, int port, void *rtcp_seen, void *rtp_seen, int rtcp_port_offset) {
    // Shared by the probes, each holding a reference.
    RtcpPeer *peer = g_atomic_rc_box_new0(RtcpPeer);
    peer->offset = (guint16)rtcp_port_offset;
    g_mutex_init(&peer->lock);
    g_weak_ref_init(&peer->source, socket_source);
    if (host != NULL) {
        peer->sender = g_inet_socket_address_new_from_string(host, (guint)port);
        peer->fixed = TRUE;
    }
    gst_pad_add_probe(GST_PAD(rtcp_out), GST_PAD_PROBE_TYPE_BUFFER, rtcp_answer, g_atomic_rc_box_acquire(peer), rtcp_peer_release);
    gst_pad_add_probe(GST_PAD(rtcp_seen), GST_PAD_PROBE_TYPE_BUFFER, rtcp_note_sender, peer, rtcp_peer_release);
    if (rtp_seen != NULL) {
        gst_pad_add_probe(GST_PAD(rtp_seen), GST_PAD_PROBE_TYPE_BUFFER, rtcp_note_media, g_atomic_rc_box_acquire(peer), rtcp_peer_release);
    }
}

// MARK: RFC 4588 retransmissions

typedef struct {
    guint session;
    guint rtx_payload_type;
    guint payload_type;
    gboolean sending;
} RtxMapping;

static GstElement *rtx_element(GstElement *rtpbin, guint session, gpointer data) {
    RtxMapping *mapping = data;
    if (session != mapping->session) return NULL;
    GstElement *rtx = gst_element_factory_make(mapping->sending ? "rtprtxsend" : "rtprtxreceive", NULL);
    if (rtx == NULL) return NULL;
    // Both map the media's payload type to its retransmissions'.
    gchar *key = g_strdup_printf("%u", mapping->payload_type);
    GstStructure *map = gst_structure_new("application/x-rtp-pt-map", key, G_TYPE_UINT, mapping->rtx_payload_type, NULL);
    g_object_set(rtx, "payload-type-map", map, NULL);
    gst_structure_free(map);
    g_free(key);
    GstElement *bin = gst_bin_new(NULL);
    gst_bin_add(GST_BIN(bin), rtx);
    const char *directions[2][2] = {{"src", "src_%u"}, {"sink", "sink_%u"}};
    for (int i = 0; i < 2; i++) {
        GstPad *pad = gst_element_get_static_pad(rtx, directions[i][0]);
        gchar *name = g_strdup_printf(directions[i][1], session);
        gst_element_add_pad(bin, gst_ghost_pad_new(name, pad));
        g_free(name);
        gst_object_unref(pad);
    }
    return bin;
}

void arena_rtpbin_use_rtx(void *rtpbin, unsigned session, unsigned rtx_payload_type, unsigned payload_type, int sending) {
    RtxMapping *mapping = g_new0(RtxMapping, 1);
    mapping->session = session;
    mapping->rtx_payload_type = rtx_payload_type;
    mapping->payload_type = payload_type;
    mapping->sending = sending != 0;
    g_signal_connect_data(rtpbin, sending ? "request-aux-sender" : "request-aux-receiver", G_CALLBACK(rtx_element), mapping,
                          (GClosureNotify)g_free, 0);
}

void *arena_rtpbin_session(void *rtpbin, unsigned session) {
    GstElement *element = NULL;
    g_signal_emit_by_name(rtpbin, "get-session", session, &element);
    return element;
}

// MARK: Source filter

typedef struct {
    int count;
    GInetAddress **allowed;
} Senders;

static void senders_free(gpointer data) {
    Senders *senders = data;
    for (int i = 0; i < senders->count; i++) g_object_unref(senders->allowed[i]);
    g_free(senders->allowed);
    g_free(senders);
}

static GstPadProbeReturn only_from_senders(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    Senders *senders = data;
    GstNetAddressMeta *meta = gst_buffer_get_net_address_meta(GST_PAD_PROBE_INFO_BUFFER(info));
    if (meta == NULL || !G_IS_INET_SOCKET_ADDRESS(meta->addr)) return GST_PAD_PROBE_DROP;
    GInetAddress *from = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(meta->addr));
    for (int i = 0; i < senders->count; i++) {
        if (g_inet_address_equal(from, senders->allowed[i])) return GST_PAD_PROBE_OK;
    }
    return GST_PAD_PROBE_DROP;
}

void arena_udpsrc_only_from(void *udpsrc, const char *const *hosts, int count) {
    Senders *senders = g_new0(Senders, 1);
    senders->allowed = g_new0(GInetAddress *, count);
    for (int i = 0; i < count; i++) {
        GInetAddress *address = g_inet_address_new_from_string(hosts[i]);
        if (address) senders->allowed[senders->count++] = address;
    }
    GstPad *pad = gst_element_get_static_pad(GST_ELEMENT(udpsrc), "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, only_from_senders, senders, senders_free);
    gst_object_unref(pad);
}

// MARK: Unnamed senders

typedef struct {
    gint named;  // (atomic) the sender's own SDES came: it names itself, nothing is added any more
    char cname[256];
} RtcpName;

static GstPadProbeReturn rtcp_add_cname(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    RtcpName *name = data;
    if (g_atomic_int_get(&name->named)) return GST_PAD_PROBE_OK;
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_PAD_PROBE_OK;
    guint32 ssrc = 0;
    gboolean report = FALSE, named = FALSE, padded = FALSE, whole = FALSE;
    for (gsize at = 0; at + 8 <= map.size;) {
        gsize length = (gsize)GST_READ_UINT16_BE(map.data + at + 2) * 4 + 4;
        if ((map.data[at] >> 6) != 2 || at + length > map.size) break;
        if (map.data[at + 1] == 200 && !report) {
            report = TRUE;
            ssrc = GST_READ_UINT32_BE(map.data + at + 4);
        }
        if (map.data[at + 1] == 202) named = TRUE;
        padded = (map.data[at] & 0x20) != 0;  // only the last packet of a compound may be padded
        at += length;
        whole = at == map.size;
    }
    gst_buffer_unmap(buffer, &map);
    if (named) g_atomic_int_set(&name->named, 1);
    if (!report || named || padded || !whole) return GST_PAD_PROBE_OK;
    // SDES header, then one chunk: the SSRC, a CNAME item, an end item, padding to 32 bits.
    gsize text = strlen(name->cname), size = 4 + ((4 + 2 + text + 1 + 3) & ~(gsize)3);
    guint8 *sdes = g_malloc0(size);
    sdes[0] = 0x81;
    sdes[1] = 202;
    GST_WRITE_UINT16_BE(sdes + 2, (guint16)(size / 4 - 1));
    GST_WRITE_UINT32_BE(sdes + 4, ssrc);
    sdes[8] = 1;
    sdes[9] = (guint8)text;
    memcpy(sdes + 10, name->cname, text);
    buffer = gst_buffer_make_writable(buffer);
    gst_buffer_append_memory(buffer, gst_memory_new_wrapped(0, sdes, size, 0, size, sdes, g_free));
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
    return GST_PAD_PROBE_OK;
}

void arena_rtcp_name_sender(void *pad, const char *cname) {
    RtcpName *name = g_new0(RtcpName, 1);
    g_strlcpy(name->cname, cname, sizeof name->cname);
    gst_pad_add_probe(GST_PAD(pad), GST_PAD_PROBE_TYPE_BUFFER, rtcp_add_cname, name, g_free);
}

// MARK: Encoder priming

static GstPadProbeReturn skip_priming(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    GstClockTime shift = *(GstClockTime *)data;
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
    if (GST_BUFFER_PTS(buffer) < shift) return GST_PAD_PROBE_DROP;
    buffer = gst_buffer_make_writable(buffer);
    GST_BUFFER_PTS(buffer) -= shift;
    if (GST_BUFFER_DTS_IS_VALID(buffer)) GST_BUFFER_DTS(buffer) = GST_BUFFER_DTS(buffer) >= shift ? GST_BUFFER_DTS(buffer) - shift : 0;
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
    return GST_PAD_PROBE_OK;
}

void arena_pad_skip_priming(void *pad, unsigned long long nanoseconds) {
    GstClockTime *shift = g_new(GstClockTime, 1);
    *shift = nanoseconds;
    gst_pad_add_probe(GST_PAD(pad), GST_PAD_PROBE_TYPE_BUFFER, skip_priming, shift, g_free);
}

// MARK: SRTP keys

typedef struct {
    GstCaps *caps;
    guint *ssrcs;    // the SSRCs to answer; NULL: any, up to `limit`
    gint count;
    gint limit;
    GHashTable *answered;  // SSRCs given the key so far (only touched in the signal, under srtpdec's lock)
} SrtpKeys;

static GstCaps *srtp_key_for_ssrc(GstElement *srtpdec, guint ssrc, gpointer data) {
    SrtpKeys *keys = data;
    if (keys->ssrcs != NULL) {
        for (gint index = 0; index < keys->count; index++) {
            if (keys->ssrcs[index] == ssrc) return gst_caps_ref(keys->caps);
        }
        return NULL;
    }
    if (!g_hash_table_contains(keys->answered, GUINT_TO_POINTER(ssrc))) {
        if ((gint)g_hash_table_size(keys->answered) >= keys->limit) return NULL;
        g_hash_table_add(keys->answered, GUINT_TO_POINTER(ssrc));
    }
    return gst_caps_ref(keys->caps);  // the element takes this reference
}

static void srtp_keys_free(gpointer data, GClosure *closure) {
    SrtpKeys *keys = data;
    gst_caps_unref(keys->caps);
    g_free(keys->ssrcs);
    g_hash_table_unref(keys->answered);
    g_free(keys);
}

void arena_srtpdec_answer_key_requests(void *srtpdec, void *caps, const unsigned *ssrcs, int count, int limit) {
    SrtpKeys *keys = g_new0(SrtpKeys, 1);
    keys->caps = gst_caps_ref(GST_CAPS(caps));
    keys->ssrcs = count > 0 ? g_memdup2(ssrcs, sizeof(guint) * (gsize)count) : NULL;
    keys->count = count;
    keys->limit = limit;
    keys->answered = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_signal_connect_data(srtpdec, "request-key", G_CALLBACK(srtp_key_for_ssrc), keys, srtp_keys_free, 0);
}

void *arena_buffer_with_insert(void *source, unsigned long offset, const unsigned char *bytes, unsigned long size) {
    GstBuffer *buffer = source;
    gsize total = gst_buffer_get_size(buffer);
    if (offset > total) offset = total;
    GstBuffer *result = gst_buffer_new_allocate(NULL, total + size, NULL);
    GstMapInfo map;
    if (!result || !gst_buffer_map(result, &map, GST_MAP_WRITE)) {
        if (result) gst_buffer_unref(result);
        return gst_buffer_ref(buffer);
    }
    gst_buffer_extract(buffer, 0, map.data, offset);
    memcpy(map.data + offset, bytes, size);
    gst_buffer_extract(buffer, offset, map.data + offset + size, total - offset);
    gst_buffer_unmap(result, &map);
    gst_buffer_copy_into(result, buffer, GST_BUFFER_COPY_METADATA, 0, -1);
    return result;
}
