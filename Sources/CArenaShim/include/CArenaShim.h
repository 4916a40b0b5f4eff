#ifndef ARENA_SHIM_H
#define ARENA_SHIM_H

#include <stdint.h>

// This header uses plain C types only: including GStreamer's headers here would give their
// declarations to this module as well as to CGStreamer, and Swift would then find them in
// only one of the two.

// g_object_set() is variadic: Swift cannot call it, and passing a Swift integer through
// C varargs is undefined for 64-bit, enum and double properties. Each setter below
// passes exactly the C type the property expects. `object` is any GObject.
void arena_object_set_int(void *object, const char *name, int value);
void arena_object_set_uint(void *object, const char *name, unsigned int value);
void arena_object_set_int64(void *object, const char *name, int64_t value);
void arena_object_set_uint64(void *object, const char *name, uint64_t value);
void arena_object_set_double(void *object, const char *name, double value);
void arena_object_set_boolean(void *object, const char *name, int value);
void arena_object_set_string(void *object, const char *name, const char *value);
/// For boxed (GstCaps, GstStructure) and object-typed properties; the object takes its own reference.
void arena_object_set_pointer(void *object, const char *name, void *value);

/// GST_PAD_PROBE_INFO_FLOW_RETURN() is a macro over an anonymous union. `info` is a
/// GstPadProbeInfo; `flow` a GstFlowReturn.
void arena_probe_info_set_flow_return(void *info, int flow);

#endif
