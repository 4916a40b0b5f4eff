import Foundation
import GStreamerKit

/// Frame numbers drawn into a sender's pictures as 16 black/white stripes down their middle,
/// and where to look for them in a picture that shows one: how the live tests and benchmarks
/// tell which sender frame an output frame shows.
public enum FrameStamp {
    public static let stripes = 16

    /// Draws `number` (its low 16 bits) into an I420 frame: stripe `bit` is white for a 1.
    public static func draw(_ number: Int, on frame: borrowing WritableVideoFrame) {
        let band = frame.height / stripes
        let column = frame.width / 2 - 24
        for bit in 0..<stripes {
            let value: Int32 = number >> bit & 1 == 1 ? 235 : 16
            frame.withPlanes { planes, strides in
                for row in bit * band..<(bit + 1) * band { memset(planes[0] + row * strides[0] + column, value, 48) }
            }
        }
    }

    /// Where each stripe's middle is when the stamped picture fills the rectangle at `x`, `y`
    /// of `width` by `height` (a cell that crops the sides keeps the middle).
    public static func points(x: Int, y: Int, width: Int, height: Int) -> [(x: Int, y: Int)] {
        (0..<stripes).map { bit in (x + width / 2, y + (2 * bit + 1) * height / (2 * stripes)) }
    }
}
