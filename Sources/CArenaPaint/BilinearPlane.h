#ifndef ARENA_BILINEAR_PLANE_H
#define ARENA_BILINEAR_PLANE_H

#include <stdint.h>

/// Scales a `src_width` x `src_height` region of an 8-bit plane into a `dst_width` x
/// `dst_height` one, bilinear, centre-aligned. Returns 0, or -1 when it cannot (no AVX2, a
/// shrink by more than 4x across, a source under 2 pixels wide): the caller then scales
/// another way.
/// Reads the source rows only within the region.
int arena_bilinear_plane(const uint8_t *src, int src_stride, int src_width, int src_height, uint8_t *dst, int dst_stride,
                         int dst_width, int dst_height);

#endif
