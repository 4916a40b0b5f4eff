#ifndef ARENA_BILINEAR_PLANE_H
#define ARENA_BILINEAR_PLANE_H

#include <stdint.h>

/// Scales a `src_width` x `src_height` region of a plane into a `dst_width` x `dst_height`
/// 8-bit one, bilinear, centre-aligned. The source has `depth` bits a sample: 8 (a byte
/// each), or 9 to 16 (native-order 16-bit samples, narrowed to 8 bits as they are blended).
/// Returns 0, or -1 when it cannot (no AVX2, a shrink by more than 8x across, a source under
/// 2 pixels wide, a depth outside 8 to 16): the caller then scales another way.
/// Reads the source rows only within the region.
int arena_bilinear_plane(const uint8_t *src, int src_stride, int depth, int src_width, int src_height, uint8_t *dst, int dst_stride,
                         int dst_width, int dst_height);

/// Narrows a `width` x `height` region of a plane of `depth`-bit samples (9 to 16, native
/// order) to 8 bits, rounded.
void arena_narrow_plane(const uint8_t *src, int src_stride, int depth, int width, int height, uint8_t *dst, int dst_stride);

#endif
