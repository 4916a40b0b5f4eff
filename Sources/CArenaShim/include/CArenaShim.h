#ifndef ARENA_SHIM_H
#define ARENA_SHIM_H

#include <stdint.h>

// This header uses plain C types only: including GStreamer's headers here would give their
// declarations to this module as well as to CGStreamer, and Swift would then find them in
// only one of the two.

/// GST_PAD_PROBE_INFO_FLOW_RETURN() is a macro over an anonymous union. `info` is a
/// GstPadProbeInfo; `flow` a GstFlowReturn.
void arena_probe_info_set_flow_return(void *info, int flow);

#endif
