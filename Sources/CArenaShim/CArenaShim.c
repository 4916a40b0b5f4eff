#include "CArenaShim.h"

#include <gst/gst.h>

void arena_probe_info_set_flow_return(void *info, int flow) {
    GST_PAD_PROBE_INFO_FLOW_RETURN((GstPadProbeInfo *)info) = (GstFlowReturn)flow;
}
