#ifndef ARENA_SHIM_H
#define ARENA_SHIM_H

#include <stdint.h>

// This header uses plain C types only: including GStreamer's headers here would give their
// declarations to this module as well as to CGStreamer, and Swift would then find them in
// only one of the two.

/// GST_PAD_PROBE_INFO_FLOW_RETURN() is a macro over an anonymous union. `info` is a
/// GstPadProbeInfo; `flow` a GstFlowReturn.
void arena_probe_info_set_flow_return(void *info, int flow);

/// Symmetric RTCP: each RTCP packet rtpbin's session sends on `rtcp_out` (a
/// `send_rtcp_src_%u` pad, left unlinked) goes out through `socket_source`'s own socket (the
/// udpsrc receiving the peer's RTCP), so the peer gets it from the port it sends to. It goes
/// to `host`:`port`; or, with `host` NULL, to where the peer's latest RTCP came from (seen on
/// `rtcp_seen`, a pad after the filters and decryption), taken only from the address the
/// peer's RTP comes from (seen on `rtp_seen`, likewise); before that RTCP, to the RTP's port
/// + `rtcp_port_offset` (1: a sender's port pair; 0: rtcp-mux); before any RTP, nowhere.
/// GstElement* and GstPad*s.
void arena_rtcp_send_through(void *socket_source, void *rtcp_out, const char *host, int port, void *rtcp_seen, void *rtp_seen, int rtcp_port_offset);

/// Lets `rtpbin`'s session `session` take RFC 4588 retransmissions: an rtprtxreceive that
/// maps RTX payload type `rtx_payload_type` to `payload_type` (its "request-aux-receiver"),
/// or, with `sending` set, send them: an rtprtxsend ("request-aux-sender").
void arena_rtpbin_use_rtx(void *rtpbin, unsigned session, unsigned rtx_payload_type, unsigned payload_type, int sending);

/// Drops what `udpsrc` (a GstElement*) receives from any address but the `count` IP addresses
/// in `hosts`.
void arena_udpsrc_only_from(void *udpsrc, const char *const *hosts, int count);

/// `rtpbin`'s session element `session` (its "get-session"), with a reference the caller owns; NULL if none.
void *arena_rtpbin_session(void *rtpbin, unsigned session);

/// For a pad carrying a sender's RTCP: a compound packet with a sender report and no SDES
/// (ffmpeg's, without -cname) gets an SDES CNAME chunk `cname` for the report's SSRC, so that
/// rtpbin, which lines streams up by CNAME, lines up the streams of a sender that names none.
void arena_rtcp_name_sender(void *pad, const char *cname);

/// For an audio encoder's source pad: each buffer's times move `nanoseconds` earlier (the
/// encoder's priming, which players do not skip when no container field says so); a buffer
/// that would start before 0 (the priming itself) is dropped.
void arena_pad_skip_priming(void *pad, unsigned long long nanoseconds);

/// For an srtpdec: answers its `request-key` signal with `caps` (the srtp-key, srtp-cipher,
/// srtp-auth, srtcp-cipher and srtcp-auth fields) for the `count` SSRCs in `ssrcs`, or, with
/// none listed, for the first `limit` SSRCs it asks about: srtpdec keeps a stream for every
/// SSRC it was given a key for, before it knows whether its packets authenticate, so a
/// stranger inventing SSRCs could otherwise grow it without end. Others get no key (their
/// packets are dropped). The element keeps what it needs for as long as it lives.
void arena_srtpdec_answer_key_requests(void *srtpdec, void *caps, const unsigned *ssrcs, int count, int limit);

/// A copy of `buffer` (a GstBuffer; times, flags and metas too) with `size` bytes inserted at
/// `offset`: Swift cannot allocate, map and copy a GstBuffer's memory without many unsafe steps.
void *arena_buffer_with_insert(void *buffer, unsigned long offset, const unsigned char *bytes, unsigned long size);

#endif
