#include "CArenaShim.h"

#include <gst/gst.h>

void arena_object_set_int(void *object, const char *name, int value) {
    g_object_set(object, name, (gint)value, NULL);
}

void arena_object_set_uint(void *object, const char *name, unsigned int value) {
    g_object_set(object, name, (guint)value, NULL);
}

void arena_object_set_int64(void *object, const char *name, int64_t value) {
    g_object_set(object, name, (gint64)value, NULL);
}

void arena_object_set_uint64(void *object, const char *name, uint64_t value) {
    g_object_set(object, name, (guint64)value, NULL);
}

void arena_object_set_double(void *object, const char *name, double value) {
    g_object_set(object, name, (gdouble)value, NULL);
}

void arena_object_set_boolean(void *object, const char *name, int value) {
    g_object_set(object, name, (gboolean)(value != 0), NULL);
}

void arena_object_set_string(void *object, const char *name, const char *value) {
    g_object_set(object, name, value, NULL);
}

void arena_object_set_pointer(void *object, const char *name, void *value) {
    g_object_set(object, name, value, NULL);
}

void arena_probe_info_set_flow_return(void *info, int flow) {
    GST_PAD_PROBE_INFO_FLOW_RETURN((GstPadProbeInfo *)info) = (GstFlowReturn)flow;
}
